/**
 * Errors every store raises on purpose (part of the ClientStore contract), so callers branch on
 * the class or `code` rather than on a driver's message.
 */

/** insertClient: the client_id is taken. */
export class ClientExistsError extends Error {
  override readonly name = 'ClientExistsError';
  /** Stable code to branch on. */
  readonly code = 'client_exists';
  /** The id that was taken. */
  readonly clientId: string;

  constructor(clientId: string) {
    super(`client ${JSON.stringify(clientId)} already exists`);
    this.clientId = clientId;
  }
}

/** Any method called once close() has begun. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  /** Stable code to branch on. */
  readonly code = 'store_closed';

  constructor() {
    super('the client store is closed');
  }
}

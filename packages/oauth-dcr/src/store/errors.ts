/**
 * Errors every store raises on purpose (part of the ClientStore contract), so callers branch on
 * the class or `code` rather than on a driver's message.
 */

/** insertClient: the client_id is taken. */
export class ClientExistsError extends Error {
  override readonly name = 'ClientExistsError';
  readonly code = 'client_exists';
  readonly clientId: string;

  constructor(clientId: string) {
    super(`client ${JSON.stringify(clientId)} already exists`);
    this.clientId = clientId;
  }
}

/** Any method called once close() has begun. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  readonly code = 'store_closed';

  constructor() {
    super('the client store is closed');
  }
}

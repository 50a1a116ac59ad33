/**
 * Why a Client ID Metadata Document cannot be used, with the OAuth error a host reports:
 * `invalid_client` when the client cannot be identified at all (a bad URL, a failed fetch, an
 * operator's refusal), `invalid_client_metadata` when the document was fetched but breaks a rule.
 * Never cached (CIMD §4.4).
 */
export class DocumentRefusal extends Error {
  override readonly name = 'DocumentRefusal';
  readonly error: 'invalid_client' | 'invalid_client_metadata';

  constructor(error: 'invalid_client' | 'invalid_client_metadata', description: string) {
    super(description);
    this.error = error;
  }
}

export const invalidClient = (description: string): DocumentRefusal =>
  new DocumentRefusal('invalid_client', description);
export const invalidDocument = (description: string): DocumentRefusal =>
  new DocumentRefusal('invalid_client_metadata', description);

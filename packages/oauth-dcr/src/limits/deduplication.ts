import { createHash } from 'node:crypto';
import type { ClientMetadata, RegistrationVia } from '../store/types.js';

/** What makes two registrations "the same" for de-duplication. */
export interface FingerprintInput {
  via: RegistrationVia;
  /** The principal, token id or statement issuer that admitted it, if any. */
  by: string | undefined;
  metadata: ClientMetadata;
  /** The resolved client address. */
  address: string | undefined;
}

/**
 * The fingerprint of a public client's registration, for opt-in de-duplication: a SHA-256 over
 * the tier and who admitted it, the software (`software_id`, or `client_name` without one), the
 * redirect URIs in order and the client address. Nothing in it is secret. Undefined for a request
 * that is never de-duplicated: a confidential client (its secret is shown once, so a second
 * registration must get its own), or one whose address is not known.
 */
export function registrationFingerprint(input: FingerprintInput): string | undefined {
  const { metadata, address } = input;
  if (metadata.token_endpoint_auth_method !== 'none' || address === undefined) return undefined;
  const software =
    typeof metadata.software_id === 'string'
      ? ['software_id', metadata.software_id]
      : ['client_name', typeof metadata.client_name === 'string' ? metadata.client_name : ''];
  const parts = [input.via, input.by ?? '', ...software, metadata.redirect_uris ?? [], address];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

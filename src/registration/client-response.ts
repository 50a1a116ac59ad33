import type { Policy } from '../policy.js';
import type { ClientRecord } from '../store/types.js';

/** Plaintext credentials, present only in the response that issued them. */
export interface IssuedCredentials {
  clientSecret?: string;
  registrationAccessToken?: string;
}

/** RFC 7592 §3: the client configuration endpoint, an absolute URL. */
export function registrationClientUri(policy: Policy, requestUrl: string, clientId: string): string {
  const base = policy.issuer ?? new URL(requestUrl).origin;
  const path = policy.registrationPath === '/' ? '' : policy.registrationPath;
  return `${base}${path}/${encodeURIComponent(clientId)}`;
}

/**
 * RFC 7591 §3.2.1 / RFC 7592 §3: the client information response. Absent members are omitted,
 * never null; `client_secret_expires_at` accompanies every secret; the stored secret hash is
 * never part of it.
 */
export function clientInformation(
  policy: Policy,
  record: ClientRecord,
  requestUrl: string,
  issued: IssuedCredentials = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    client_id: record.clientId,
    client_id_issued_at: record.clientIdIssuedAt,
  };
  if (issued.clientSecret !== undefined) {
    body.client_secret = issued.clientSecret;
    body.client_secret_expires_at = record.clientSecretExpiresAt;
  } else if (record.clientSecretHash !== undefined) {
    // RFC 7592 §3: the expiry is still useful on a read, without the secret itself.
    body.client_secret_expires_at = record.clientSecretExpiresAt;
  }
  if (issued.registrationAccessToken !== undefined) body.registration_access_token = issued.registrationAccessToken;
  if (record.registrationAccessTokenHash !== undefined || issued.registrationAccessToken !== undefined) {
    body.registration_client_uri = registrationClientUri(policy, requestUrl, record.clientId);
  }
  const metadata = record.metadata;
  for (const key of Object.keys(metadata)) {
    const value = metadata[key];
    if (value !== undefined && value !== null) body[key] = value;
  }
  return body;
}

/**
 * Serialized read bodies (RFC 7592 §2.1), by record. Stored records are immutable (see the store
 * contract), so a record's body depends only on its registration_client_uri: a store that hands
 * the same record out again (the memory store, the SQLite store's cache) gets the body without
 * building and serializing it again. Entries go when their record does.
 */
const readBodies = new WeakMap<ClientRecord, { uri: string; json: string }>();

/** JSON.stringify(clientInformation(...)) for a read, where no credentials are issued. */
export function clientInformationJson(policy: Policy, record: ClientRecord, requestUrl: string): string {
  // A store of someone else's might hand out a record it later changes in place: only frozen
  // records (as the contract asks for) are remembered.
  if (!Object.isFrozen(record) || !Object.isFrozen(record.metadata)) {
    return JSON.stringify(clientInformation(policy, record, requestUrl));
  }
  const uri = registrationClientUri(policy, requestUrl, record.clientId);
  const known = readBodies.get(record);
  if (known !== undefined && known.uri === uri) return known.json;
  const json = JSON.stringify(clientInformation(policy, record, requestUrl));
  readBodies.set(record, { uri, json });
  return json;
}

/** Whether this auth method gets a client secret (RFC 7591 §3.2.1). */
export function needsClientSecret(authMethod: unknown): boolean {
  return authMethod === 'client_secret_basic' || authMethod === 'client_secret_post';
}

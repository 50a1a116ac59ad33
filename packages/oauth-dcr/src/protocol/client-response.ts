import type { Policy } from './policy.js';
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
 * Serialized read bodies (RFC 7592 §2.1) without the registration access token, by record. Stored
 * records are immutable (see the store contract), so a record's body depends only on its
 * registration_client_uri: a store that hands the same record out again (the memory store, the
 * SQLite store's cache) gets the body without building and serializing it again. Entries go when
 * their record does. The token is added per response, so no plaintext token is ever kept here.
 */
const readBodies = new WeakMap<ClientRecord, { uri: string; json: string }>();

/**
 * The RFC 7592 §2.1 read response, serialized. RFC 7592 §3 makes registration_access_token and
 * registration_client_uri part of every client information response, the read's too. Only hashes
 * are stored, so the token echoed is the one that authenticated this request (the caller has just
 * verified it against the stored hash, so it is the client's current token).
 */
export function clientReadJson(
  policy: Policy,
  record: ClientRecord,
  requestUrl: string,
  registrationAccessToken: string,
): string {
  const withoutToken = cachedReadBody(policy, record, requestUrl);
  // The body always starts with '{"client_id":', so the token goes in front of it. Cheaper than
  // parsing or rebuilding it, and JSON.stringify escapes whatever the token holds.
  return `{"registration_access_token":${JSON.stringify(registrationAccessToken)},${withoutToken.slice(1)}`;
}

function cachedReadBody(policy: Policy, record: ClientRecord, requestUrl: string): string {
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

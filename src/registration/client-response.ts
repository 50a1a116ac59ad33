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

/** Whether this auth method gets a client secret (RFC 7591 §3.2.1). */
export function needsClientSecret(authMethod: unknown): boolean {
  return authMethod === 'client_secret_basic' || authMethod === 'client_secret_post';
}

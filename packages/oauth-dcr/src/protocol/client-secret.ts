import type { ResolvedOptions } from '../core/options.js';
import { generateSecret, hashSecret } from '../core/secrets.js';
import type { ClientRecord } from '../store/types.js';

/**
 * RFC 7591 §3.2.1 `client_secret_expires_at` for a secret issued at `now`: `clientSecretTtl`
 * seconds later, or 0 for a secret that never expires. The one place this rule lives; every
 * secret issued (registration, update, renewal) takes its expiry from here.
 */
export function clientSecretExpiresAt(options: Pick<ResolvedOptions, 'clientSecretTtl'>, now: number): number {
  return options.clientSecretTtl > 0 ? now + options.clientSecretTtl : 0;
}

/** Whether this auth method gets a client secret (RFC 7591 §3.2.1). */
export function needsClientSecret(authMethod: unknown): boolean {
  return authMethod === 'client_secret_basic' || authMethod === 'client_secret_post';
}

/**
 * Brings `record`'s secret in line with the auth method it now registers, in place; returns the
 * plaintext of a secret issued now (shown once, RFC 7591 §3.2.1), else undefined.
 * - A client_secret_* method and no secret yet (a new client, or a public client that became
 *   confidential in an update): a new secret, expiring as `clientSecretExpiresAt` says.
 * - A client_secret_* method and a secret: kept as it is (an update never rotates it; RFC 7592
 *   §2.2 leaves that to the server, and renewal is its own request).
 * - Any other method: no secret at all, current or previous; `client_secret_expires_at` 0.
 */
export function settleClientSecret(
  options: Pick<ResolvedOptions, 'clientSecretTtl'>,
  record: ClientRecord,
  now: number,
): string | undefined {
  if (needsClientSecret(record.metadata.token_endpoint_auth_method)) {
    if (record.clientSecretHash !== undefined) return undefined;
    const clientSecret = generateSecret();
    record.clientSecretHash = hashSecret(clientSecret);
    record.clientSecretExpiresAt = clientSecretExpiresAt(options, now);
    return clientSecret;
  }
  // Only keys that are there are deleted: a new draft keeps its shape (and V8 its fast properties).
  if ('clientSecretHash' in record) delete record.clientSecretHash;
  if ('previousSecretHash' in record) delete record.previousSecretHash;
  if ('previousSecretExpiresAt' in record) delete record.previousSecretExpiresAt;
  record.clientSecretExpiresAt = 0;
  return undefined;
}

import { verifySecret } from '../secrets.js';
import type { ClientRecord } from '../store/types.js';

/**
 * Client secret checks shared by RFC 7592 updates and token-endpoint integrations. All
 * comparisons are constant time (secrets.ts).
 */

/** The current secret, unless it has expired (RFC 7591 §3.2.1 client_secret_expires_at, 0 = never). */
export function isCurrentSecret(record: ClientRecord, secret: string, now: number): boolean {
  if (record.clientSecretHash === undefined) return false;
  if (record.clientSecretExpiresAt !== 0 && record.clientSecretExpiresAt <= now) return false;
  return verifySecret(secret, record.clientSecretHash);
}

/** The current secret, or the previous one while its renewal overlap lasts. */
export function isAcceptedSecret(record: ClientRecord, secret: string, now: number): boolean {
  if (isCurrentSecret(record, secret, now)) return true;
  return record.previousSecretHash !== undefined
    && record.previousSecretExpiresAt !== undefined
    && record.previousSecretExpiresAt > now
    && verifySecret(secret, record.previousSecretHash);
}

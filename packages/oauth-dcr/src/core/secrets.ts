import { hash, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets, registration access tokens and initial access tokens are all 256-bit random
 * values. They are stored only as SHA-256 digests: a slow KDF adds nothing against guessing a
 * 256-bit random value and would cost every token request (PBKDF2-600k is ~100 ms per verify).
 */
export const SECRET_BYTES = 32;

/**
 * Random bytes are drawn from the CSPRNG a few KiB at a time, as crypto.randomUUID does: one
 * call per secret costs more than the rest of a registration. Bytes handed out are zeroed in the
 * pool, so no secret lingers there.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

/**
 * A new 256-bit secret, base64url without padding (43 characters): for client secrets,
 * registration access tokens and initial access tokens. Far beyond guessing (RFC 6749 §10.10).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.10
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1
 */
export function generateSecret(): string {
  if (poolOffset + SECRET_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += SECRET_BYTES;
  const secret = pool.toString('base64url', start, poolOffset);
  pool.fill(0, start, poolOffset);
  return secret;
}

/**
 * The stored form of a secret: hex SHA-256 (64 characters). Stores only ever see this, never the
 * secret itself.
 */
export function hashSecret(secret: string): string {
  // The one-shot crypto.hash (Node 20.12+) costs half of a Hash object for inputs this small.
  return hash('sha256', secret, 'hex');
}

/**
 * Compares a presented secret with a stored hash in constant time. Both sides are hashed to a
 * fixed length first, so neither the content nor the length of the stored value leaks. False
 * for anything that is not a string or not a 64-character digest.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
export function verifySecret(presented: string, storedHash: string | undefined | null): boolean {
  if (typeof presented !== 'string' || typeof storedHash !== 'string' || storedHash.length !== 64) return false;
  // Two 64-character hex digests, compared byte for byte in constant time (a stored digest in
  // upper case, from imported data say, still matches).
  return timingSafeEqual(Buffer.from(hashSecret(presented), 'latin1'), Buffer.from(storedHash.toLowerCase(), 'latin1'));
}

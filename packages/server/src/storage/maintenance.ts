import type { ServerConfig } from '../config.js';
import { pruneRetiredKeys, SigningKeyRing } from '../signing-keys.js';
import type { ServerStorage } from './open-storage.js';

/** Revoked refresh tokens are kept until well after expiry so that reuse is still recognised. */
const PRUNE_GRACE_SECONDS = 24 * 3600;

/**
 * Deletes what can no longer be used: expired codes and tokens (revoked refresh tokens after a
 * grace, so that reuse is still recognised), expired client-assertion jti records, expired
 * sign-in sessions and pending authorization requests, and retired signing keys no live token
 * needs. Resolves how many rows went.
 */
export async function pruneStorage(
  storage: ServerStorage,
  accessTokenTtl: number,
  graceSeconds = PRUNE_GRACE_SECONDS,
): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  const tokens = await storage.tokens.pruneExpired(now - graceSeconds);
  const assertions = await storage.usedClientAssertions.pruneExpired(now);
  const sessions = await storage.sessions.pruneExpired(now);
  return tokens + assertions + sessions + (await pruneRetiredKeys(storage.signingKeys, accessTokenTtl, now));
}

/** The access-token signing keys of this database, with the settings that govern them. */
export function openSigningKeys(config: ServerConfig, storage: ServerStorage): Promise<SigningKeyRing> {
  return SigningKeyRing.open({
    store: storage.signingKeys,
    accessTokenTtl: config.lifetimes.accessToken,
    ...(config.signingKeySecret ? { secret: config.signingKeySecret } : {}),
  });
}

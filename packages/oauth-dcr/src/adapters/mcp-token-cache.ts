// The cache of verified JWT access tokens behind oauth-dcr/mcp's createTokenVerifier. An MCP
// client sends the same access token with every call, and checking its signature (about 0.1 ms
// for ES256) is most of what authorization costs a tool call; the cache makes that once per token.
import { createHash } from 'node:crypto';
import { createLoadingCache } from '../net/loading-cache.js';
import type { McpAuthInfo } from './mcp.js';

export interface VerifiedTokenCacheOptions {
  /** How long a verified token is reused at most; never past its `exp`. 0 turns the cache off. */
  seconds: number;
  /** Least recently used tokens are forgotten beyond this many. 0 turns the cache off. */
  maxEntries: number;
}

/** What is kept of a verified token: no token (the key is its digest), nothing a caller can change. */
interface VerifiedToken {
  clientId: string;
  scopes: readonly string[];
  expiresAt: number;
  resource: string;
  subject?: string;
  claims: Readonly<Record<string, unknown>>;
}

/**
 * Wraps `verify` (the full JWT verification) with a bounded LRU cache of its successes.
 *
 * Why this is safe:
 * - A JWT cannot change: the same string always carries the same signed claims, so verifying it
 *   again can only repeat the first answer, until the clock reaches `exp`.
 * - An entry lives until min(`exp`, verification time + `seconds`): the cache never lets a token
 *   live past its expiry, and every hit checks `exp` against the clock again.
 * - Only successes are stored: a token that failed (bad signature, wrong audience, keys
 *   unavailable) is verified again in full the next time it is presented.
 * - JWT verification never sees revocation before `exp` anyway (RFC 9068 §1: that is what
 *   introspection is for), so the cache hides nothing that verification would have shown. For
 *   the same reason introspection is never cached.
 * - The one thing it delays is key removal: a token verified under a key the issuer then drops
 *   from its JWKS is still accepted until its entry expires, at most `seconds` later.
 *
 * Entries are keyed by the token's SHA-256 and hold no token, so the cache keeps no bearer
 * credential in memory, and a lookup compares digests, never the secret itself. The digest costs
 * about 1 µs; keying by the token instead would keep the whole token (0.4 to 1 KB) per entry. An
 * entry holds the claims and is under 1 KB for usual ones (about 650 bytes measured for an RFC
 * 9068 token with a scope): the default 5000 entries are a few MB at most.
 */
export function cacheVerifiedTokens(
  options: VerifiedTokenCacheOptions,
  verify: (token: string) => Promise<McpAuthInfo>,
): (token: string) => Promise<McpAuthInfo> {
  const { seconds, maxEntries } = options;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new TypeError('createTokenVerifier: verifiedTokenCacheSeconds must be a number of seconds >= 0');
  }
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
    throw new TypeError('createTokenVerifier: verifiedTokenCacheSize must be an integer >= 0');
  }
  if (seconds === 0 || maxEntries === 0) return verify;

  // Concurrent first calls with one token share a single verification (the loading cache's doing).
  const cache = createLoadingCache<VerifiedToken>({ maxEntries });
  return async (token) => {
    const verified = await cache.get(digest(token), async () => {
      const info = await verify(token);
      const ttlSeconds = Math.min(info.expiresAt - Date.now() / 1000, seconds);
      return { value: keep(info), ttlSeconds };
    });
    // The entry already ends at `exp`; checked again so that no path can serve an expired token.
    // Verifying afresh refuses it with the verifier's own error.
    if (verified.expiresAt <= Date.now() / 1000) return verify(token);
    return authInfo(token, verified);
  };
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function keep(info: McpAuthInfo): VerifiedToken {
  return {
    clientId: info.clientId,
    scopes: Object.freeze([...info.scopes]),
    expiresAt: info.expiresAt,
    resource: info.resource.href,
    ...(info.extra.subject !== undefined ? { subject: info.extra.subject } : {}),
    claims: deepFreeze(info.extra.claims),
  };
}

/** A fresh object for each caller, so that none can change what the next one gets. */
function authInfo(token: string, verified: VerifiedToken): McpAuthInfo {
  return {
    token,
    clientId: verified.clientId,
    scopes: [...verified.scopes],
    expiresAt: verified.expiresAt,
    resource: new URL(verified.resource),
    extra: { ...(verified.subject !== undefined ? { subject: verified.subject } : {}), claims: verified.claims },
  };
}

/** The claims are JSON (a verified JWT payload): plain objects and arrays all the way down. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

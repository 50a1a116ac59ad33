/**
 * A small cache in front of safeFetchJson, for documents that are read on many requests but change
 * rarely (JWKS, sector identifier documents, Client ID Metadata Documents).
 *
 * The server's Cache-Control max-age (or Expires) is honoured, clamped to [minTtlSeconds, maxTtlSeconds]: the
 * floor stops a hostile or careless `no-store` from making us refetch on every registration, the
 * ceiling bounds how long a revoked key or document can linger. Failures are not cached.
 * Use one cache per purpose: entries are keyed by URL only.
 */
import { cacheLifetime, type LifetimeBounds } from './cache-lifetime.js';
import { createLoadingCache } from './loading-cache.js';
import { expectJson, safeFetch, type SafeFetchOptions } from './safe-fetch.js';

export interface FetchCacheOptions {
  /** TTL when the response gives no max-age. Default 300. */
  ttlSeconds?: number;
  /** Floor for any TTL. Default 60. */
  minTtlSeconds?: number;
  /** Ceiling for any TTL. Default 86400 (one day). */
  maxTtlSeconds?: number;
  /** Oldest-used entries are dropped beyond this. Default 100. */
  maxEntries?: number;
  /** Clock in ms, for tests. Default Date.now. */
  now?: () => number;
}

export interface FetchCache {
  /** Like safeFetchJson, answered from the cache while fresh. The value is frozen: it is shared. */
  json(url: string | URL, options?: SafeFetchOptions): Promise<unknown>;
  /** Forget one URL, e.g. to refetch a JWKS when a token names an unknown `kid`. */
  delete(url: string | URL): void;
  clear(): void;
  readonly size: number;
}

export function createFetchCache(options: FetchCacheOptions = {}): FetchCache {
  const bounds: LifetimeBounds = {
    minSeconds: options.minTtlSeconds ?? 60,
    maxSeconds: options.maxTtlSeconds ?? 86400,
    defaultSeconds: options.ttlSeconds ?? 300,
  };
  const maxEntries = options.maxEntries ?? 100;
  const now = options.now ?? Date.now;
  for (const [name, value] of Object.entries({ ...bounds, maxEntries })) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`createFetchCache: ${name} must be a number >= 0`);
  }
  if (bounds.minSeconds > bounds.maxSeconds)
    throw new TypeError('createFetchCache: minTtlSeconds is above maxTtlSeconds');
  const cache = createLoadingCache<unknown>({ maxEntries, now });

  return {
    json(url, fetchOptions) {
      const key = keyOf(url);
      return cache.get(key, async () => {
        const response = await safeFetch(key, fetchOptions);
        const value = deepFreeze(expectJson(response));
        return { value, ttlSeconds: cacheLifetime(response.headers, bounds, now()) };
      });
    },
    delete(url) {
      cache.delete(keyOf(url));
    },
    clear() {
      cache.clear();
    },
    get size() {
      return cache.size;
    },
  };
}

/** Normalised so that `https://A.example` and `https://a.example/` share an entry; unparsable text is its own key. */
function keyOf(url: string | URL): string {
  try {
    return new URL(url).href;
  } catch {
    return String(url);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

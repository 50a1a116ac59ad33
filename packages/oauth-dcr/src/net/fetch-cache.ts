/**
 * A small cache in front of safeFetchJson, for documents that are read on many requests but change
 * rarely (JWKS, sector identifier documents, Client ID Metadata Documents).
 *
 * The server's Cache-Control max-age is honoured, clamped to [minTtlSeconds, maxTtlSeconds]: the
 * floor stops a hostile or careless `no-store` from making us refetch on every registration, the
 * ceiling bounds how long a revoked key or document can linger. Failures are not cached.
 * Use one cache per purpose: entries are keyed by URL only.
 */
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
  const minTtl = options.minTtlSeconds ?? 60;
  const maxTtl = options.maxTtlSeconds ?? 86400;
  const defaultTtl = options.ttlSeconds ?? 300;
  const maxEntries = options.maxEntries ?? 100;
  const now = options.now ?? Date.now;
  for (const [name, value] of Object.entries({ minTtl, maxTtl, defaultTtl, maxEntries })) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`createFetchCache: ${name} must be a number >= 0`);
  }
  if (minTtl > maxTtl) throw new TypeError('createFetchCache: minTtlSeconds is above maxTtlSeconds');

  // A Map iterates in insertion order; re-inserting on every hit makes the first key the least recently used.
  const entries = new Map<string, { value: unknown; expiresAt: number }>();
  // Concurrent misses for one URL share a single fetch.
  const pending = new Map<string, Promise<unknown>>();

  async function load(key: string, options: SafeFetchOptions | undefined): Promise<unknown> {
    const response = await safeFetch(key, options);
    const value = deepFreeze(expectJson(response));
    const ttl = Math.min(maxTtl, Math.max(minTtl, maxAge(response.headers.get('cache-control')) ?? defaultTtl));
    entries.delete(key);
    entries.set(key, { value, expiresAt: now() + ttl * 1000 });
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
    return value;
  }

  return {
    json(url, fetchOptions) {
      const key = keyOf(url);
      const hit = entries.get(key);
      if (hit !== undefined && hit.expiresAt > now()) {
        entries.delete(key);
        entries.set(key, hit);
        return Promise.resolve(hit.value);
      }
      let inFlight = pending.get(key);
      if (inFlight === undefined) {
        inFlight = load(key, fetchOptions).finally(() => pending.delete(key));
        pending.set(key, inFlight);
      }
      return inFlight;
    },
    delete(url) {
      entries.delete(keyOf(url));
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
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

/** max-age from Cache-Control (RFC 9111 §5.2.2.1); no-store / no-cache count as 0, left to the floor. */
function maxAge(header: string | null): number | undefined {
  if (header === null) return undefined;
  const directives = header
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  for (const directive of directives) {
    const match = /^max-age\s*=\s*"?(\d+)"?$/.exec(directive);
    if (match) return Number(match[1]);
  }
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

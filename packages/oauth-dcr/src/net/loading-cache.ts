/**
 * A bounded cache that loads what it misses: entries live for the lifetime their loader gives,
 * concurrent misses of one key share a single load, and the least recently used entry goes first
 * once `maxEntries` is reached. A failed load is never stored: the next call loads again.
 */

/** What a loader produces: the value and how many seconds it may be reused. */
export interface Loaded<V> {
  value: V;
  ttlSeconds: number;
}

export interface LoadingCacheOptions {
  /** Oldest-used entries are dropped beyond this. */
  maxEntries: number;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
}

export interface LoadingCache<V> {
  /** The fresh value for `key`, or the result of `load` (shared with concurrent callers of the same key). */
  get(key: string, load: () => Promise<Loaded<V>>): Promise<V>;
  /** Forget one key. */
  delete(key: string): void;
  clear(): void;
  readonly size: number;
}

export function createLoadingCache<V>(options: LoadingCacheOptions): LoadingCache<V> {
  const { maxEntries } = options;
  const now = options.now ?? Date.now;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
    throw new TypeError('createLoadingCache: maxEntries must be an integer >= 0');
  }
  // A Map iterates in insertion order; re-inserting on every hit makes the first key the least recently used.
  const entries = new Map<string, { value: V; expiresAt: number }>();
  const pending = new Map<string, Promise<V>>();

  async function loadAndStore(key: string, load: () => Promise<Loaded<V>>): Promise<V> {
    const { value, ttlSeconds } = await load();
    entries.delete(key);
    if (ttlSeconds > 0 && maxEntries > 0) entries.set(key, { value, expiresAt: now() + ttlSeconds * 1000 });
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
    return value;
  }

  return {
    get(key, load) {
      const hit = entries.get(key);
      if (hit !== undefined) {
        entries.delete(key);
        if (hit.expiresAt > now()) {
          entries.set(key, hit);
          return Promise.resolve(hit.value);
        }
      }
      let inFlight = pending.get(key);
      if (inFlight === undefined) {
        inFlight = loadAndStore(key, load).finally(() => pending.delete(key));
        pending.set(key, inFlight);
      }
      return inFlight;
    },
    delete(key) {
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}

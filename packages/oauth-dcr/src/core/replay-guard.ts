import type { ClientAssertionReplayGuard } from './options.js';

/** Options of the in-memory replay guard. */
export interface MemoryReplayGuardOptions {
  /** Keys remembered at most; past this (all unexpired), useOnce throws rather than forget one. Default 100000. */
  maxEntries?: number;
  /** Clock in epoch seconds. Default Date.now in seconds. */
  now?: () => number;
}

/**
 * The default `ClientAssertionReplayGuard`: used `jti` keys in this process's memory until they
 * expire (RFC 7523 §3 item 7). Right for a single instance; instances behind one load balancer
 * must share a guard backed by their database instead, or a replay reaches the next instance.
 *
 * Bounded: expired keys are dropped as new ones arrive. When every slot holds a key that has
 * not expired, it refuses to record more (useOnce throws, and the assertion is refused) instead of
 * forgetting a key early, which would let that assertion be replayed.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 */
export function createMemoryReplayGuard(options: MemoryReplayGuardOptions = {}): ClientAssertionReplayGuard {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError('createMemoryReplayGuard: maxEntries must be a whole number >= 1');
  }
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  // Insertion order is close to expiry order (lifetimes are capped alike), so expired keys sit at the front.
  const used = new Map<string, number>();

  function dropExpired(clock: number, everywhere: boolean): void {
    for (const [key, expiresAt] of used) {
      if (expiresAt > clock) {
        if (everywhere) continue;
        break;
      }
      used.delete(key);
    }
  }

  return {
    async useOnce(key, expiresAt) {
      const clock = now();
      const seen = used.get(key);
      if (seen !== undefined && seen > clock) return false;
      dropExpired(clock, false);
      if (used.size >= maxEntries) dropExpired(clock, true);
      if (used.size >= maxEntries) throw new Error('The client assertion replay guard is full');
      used.delete(key);
      used.set(key, expiresAt);
      return true;
    },
  };
}

import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimit, RateLimitStore } from '../core/limit-options.js';

/** What one counted request came to. */
export type Verdict =
  | { kind: 'allowed' }
  /** Over the limit. `first` is true for the first refusal of this key in its window only. */
  | { kind: 'refused'; retryAfter: number; first: boolean }
  /** The counter store failed (Redis unreachable, or too slow). */
  | { kind: 'store_error'; error: unknown };

const ALLOWED: Verdict = Object.freeze({ kind: 'allowed' });

/**
 * One limit over one kind of key: a rate, and a burst spent only once the rate is (the
 * BurstyRateLimiter construction of rate-limiter-flexible, written out so that the burst
 * counter's own count tells the first refusal of a window from the rest: under a flood, only that
 * one is reported).
 */
export interface KeyedLimiter {
  /** Counts one request for `key`. */
  consume(key: string): Promise<Verdict>;
  /** Whether `key` has spent its whole budget, without counting anything. */
  spent(key: string): Promise<Verdict>;
}

/**
 * What this module uses of a rate-limiter-flexible limiter, written out so that the package's
 * declarations do not depend on that package's types.
 */
export interface Counter {
  /** Resolves the count, or rejects with a RateLimiterRes when over, or with the store's error. */
  consume(key: string): Promise<CounterState>;
  get(key: string): Promise<CounterState | null>;
}

export interface CounterState {
  readonly consumedPoints: number;
  readonly msBeforeNext: number;
}

export interface LimiterStore {
  /** Builds one counter (points per duration seconds) under a prefix. */
  counter(prefix: string, points: number, duration: number): Counter;
  /** Bounds a store call: a Redis command that never answers must not hold a request. */
  bounded<T>(call: Promise<T>): Promise<T>;
}

/** Counters in this process's memory. Nothing can fail, so nothing is bounded. */
export function memoryLimiterStore(): LimiterStore {
  return {
    counter: (keyPrefix, points, duration) => new RateLimiterMemory({ keyPrefix, points, duration }),
    bounded: (call) => call,
  };
}

const DEFAULT_REDIS_PREFIX = 'oauth-dcr:rl';
const DEFAULT_REDIS_TIMEOUT_MS = 500;

/**
 * Counters in Redis, through the caller's client. `rejectIfRedisNotReady` refuses at once while
 * the client is not connected; the timeout covers a connection that is up but does not answer.
 */
export function redisLimiterStore(store: Extract<RateLimitStore, { kind: 'redis' }>): LimiterStore {
  const prefix = store.keyPrefix ?? DEFAULT_REDIS_PREFIX;
  const timeoutMs = store.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  return {
    counter: (keyPrefix, points, duration) =>
      new RateLimiterRedis({
        storeClient: store.client,
        useRedisPackage: store.package === 'redis',
        rejectIfRedisNotReady: true,
        keyPrefix: `${prefix}:${keyPrefix}`,
        points,
        duration,
      }),
    bounded: (call) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`rate limit store did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
        timer.unref?.();
        call.then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      }),
  };
}

/**
 * The limiter for one limit. The burst counter holds `burst` points over the time the rate takes
 * to earn them back (`burst * duration / points` seconds, at least one).
 */
export function createKeyedLimiter(store: LimiterStore, name: string, limit: RateLimit): KeyedLimiter {
  const rate = store.counter(name, limit.points, limit.duration);
  const burstPoints = limit.burst ?? 0;
  const burst =
    burstPoints > 0
      ? store.counter(
          `${name}:burst`,
          burstPoints,
          Math.max(1, Math.ceil((burstPoints * limit.duration) / limit.points)),
        )
      : undefined;

  async function consume(key: string): Promise<Verdict> {
    let over: CounterState;
    try {
      await store.bounded(rate.consume(key));
      return ALLOWED;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return { kind: 'store_error', error: rejection };
      over = rejection;
    }
    if (burst === undefined) return refused(over, over.consumedPoints === limit.points + 1, over);
    try {
      await store.bounded(burst.consume(key));
      return ALLOWED;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return { kind: 'store_error', error: rejection };
      return refused(over, rejection.consumedPoints === burstPoints + 1, rejection);
    }
  }

  async function spent(key: string): Promise<Verdict> {
    try {
      const used = await store.bounded(rate.get(key));
      if (used === null || used.consumedPoints < limit.points) return ALLOWED;
      if (burst === undefined) return refused(used, false, used);
      const usedBurst = await store.bounded(burst.get(key));
      if (usedBurst === null || usedBurst.consumedPoints < burstPoints) return ALLOWED;
      return refused(used, false, usedBurst);
    } catch (error) {
      return { kind: 'store_error', error };
    }
  }

  return { consume, spent };
}

/**
 * A refusal: come back when either counter has room again (the rate's window ends, or the burst
 * earned a point back), in whole seconds, at least one (RFC 9110 §10.2.3 delay-seconds).
 */
function refused(rate: CounterState, first: boolean, burst: CounterState): Verdict {
  const ms = Math.min(rate.msBeforeNext, burst.msBeforeNext);
  return { kind: 'refused', retryAfter: Math.max(1, Math.ceil(ms / 1000)), first };
}

import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * Slows password guessing at the login form (RFC 6749 §10.10: the authorization server must
 * resist credential guessing; NIST SP 800-63B §5.2.2 caps failed attempts per account).
 *
 * An attempt is counted when it STARTS, before the password is checked, with an atomic consume
 * on each counter: parallel guesses cannot all pass a check that has not yet seen the others'
 * failures. A successful sign-in gives its points back.
 *
 * Three counters, consumed in this order and stopping at the first that refuses (so a guess
 * already refused for its address or its address + username does not also spend the account's
 * budget shared by every address):
 * 1. per address, any username (password spraying from one address): 100 an hour;
 * 2. per address + username (guessing one account from one address): 10 per 15 minutes, cleared
 *    by a successful sign-in from that address;
 * 3. per username, from every address together (guessing one account from many addresses):
 *    50 an hour, which bounds a distributed attacker to 1 200 guesses a day on any account.
 *
 * The trade-off of (1) and (3): anyone who knows a username can spend its hourly budget (and
 * anyone on an address, that address's) and keep that account from signing in from new
 * addresses for up to an hour (lock-out DoS). Three things keep that small:
 * - an (address, username) pair that signed in successfully in the last 14 days is "known" and
 *   skips (1) and (3), so the owner's usual addresses still sign in. A known pair stays under
 *   (2): an attacker behind the same address (a shared NAT, or a reverse proxy: the address is
 *   the socket's peer) gets 10 guesses per 15 minutes at most, as before this throttle;
 * - the window is fixed, not extended by further attempts while refused;
 * - signed-in sessions are not touched: a user already signed in goes straight to consent.
 *
 * The counters are rate-limiter-flexible limiters, in memory (per instance) by default. Pass
 * limiters built on a shared store (RateLimiterRedis, with the same points and durations) to
 * make several instances count together (redisLoginLimiters, used when REDIS_URL is set);
 * `LoginThrottle` only uses the store-independent consume / get / reward / delete / set API.
 *
 * When the counter store fails (Redis unreachable), sign-in fails CLOSED: the attempt is refused
 * with reason 'unavailable' before any password is checked. The registration limits fail open
 * (a registration is cheap to undo and useful to a newcomer), but an uncounted login form is an
 * unlimited password-guessing oracle, and the users who are already signed in are not affected.
 */
export interface LoginThrottleLimiters {
  perAddress: RateLimiterAbstract;
  perAddressAndUsername: RateLimiterAbstract;
  perUsername: RateLimiterAbstract;
  /** Remembers (address, username) pairs that signed in; any record means "known". */
  knownAddresses: RateLimiterAbstract;
}

export interface LoginLimits {
  perAddress: { points: number; duration: number };
  perAddressAndUsername: { points: number; duration: number };
  perUsername: { points: number; duration: number };
  /** Seconds an address stays known after a successful sign-in. */
  knownAddressDuration: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perAddress: { points: 100, duration: 3600 },
  perAddressAndUsername: { points: 10, duration: 15 * 60 },
  perUsername: { points: 50, duration: 3600 },
  // 14 days. (RateLimiterMemory expires keys with setTimeout, which cannot wait past ~24.8 days.)
  knownAddressDuration: 14 * 24 * 3600,
};

/** Memory limiters with the given limits: the default, and the shape a Redis variant copies. */
export function memoryLoginLimiters(limits: LoginLimits = DEFAULT_LOGIN_LIMITS): LoginThrottleLimiters {
  return {
    perAddress: new RateLimiterMemory({ keyPrefix: 'login_addr', ...limits.perAddress }),
    perAddressAndUsername: new RateLimiterMemory({ keyPrefix: 'login_addr_user', ...limits.perAddressAndUsername }),
    perUsername: new RateLimiterMemory({ keyPrefix: 'login_user', ...limits.perUsername }),
    knownAddresses: new RateLimiterMemory({
      keyPrefix: 'login_known',
      points: 1,
      duration: limits.knownAddressDuration,
    }),
  };
}

/**
 * The same limits as memoryLoginLimiters, counted in Redis (an ioredis client) so that every
 * instance shares them. No insurance limiter: a store failure must refuse (see above), not fall
 * back to a per-process count that an attacker multiplies by the number of instances.
 */
export function redisLoginLimiters(client: unknown, limits: LoginLimits = DEFAULT_LOGIN_LIMITS): LoginThrottleLimiters {
  const base = { storeClient: client, rejectIfRedisNotReady: true };
  return {
    perAddress: new RateLimiterRedis({ ...base, keyPrefix: 'login_addr', ...limits.perAddress }),
    perAddressAndUsername: new RateLimiterRedis({
      ...base,
      keyPrefix: 'login_addr_user',
      ...limits.perAddressAndUsername,
    }),
    perUsername: new RateLimiterRedis({ ...base, keyPrefix: 'login_user', ...limits.perUsername }),
    knownAddresses: new RateLimiterRedis({
      ...base,
      keyPrefix: 'login_known',
      points: 1,
      duration: limits.knownAddressDuration,
    }),
  };
}

/** Seconds a sign-in refused because the counters are unreachable is told to wait. */
export const UNAVAILABLE_RETRY_SECONDS = 30;

export type LoginAttempt =
  /** Go ahead and check the password; then report the outcome with `succeeded()` (failure needs nothing). */
  | { allowed: true; succeeded(): Promise<void> }
  /**
   * Refused: over a limit ('address', 'account'), or the counters could not be reached
   * ('unavailable': fail-closed, answer 503 and try again later).
   */
  | { allowed: false; retryAfterSeconds: number; reason: 'address' | 'account' | 'unavailable' };

export class LoginThrottle {
  readonly #limiters: LoginThrottleLimiters;
  readonly #knownAddressDuration: number;
  readonly #onStoreError: (error: unknown) => void;

  constructor(
    options: { limiters?: LoginThrottleLimiters; limits?: LoginLimits; onStoreError?: (error: unknown) => void } = {},
  ) {
    const limits = options.limits ?? DEFAULT_LOGIN_LIMITS;
    this.#limiters = options.limiters ?? memoryLoginLimiters(limits);
    this.#knownAddressDuration = limits.knownAddressDuration;
    this.#onStoreError = options.onStoreError ?? (() => {});
  }

  /** Counts one sign-in attempt for `username` from `address`, before the password is checked. */
  async begin(address: string | undefined, username: string): Promise<LoginAttempt> {
    try {
      return await this.#begin(address, username);
    } catch (error) {
      // Fail closed: no count, no password check.
      this.#onStoreError(error);
      return { allowed: false, retryAfterSeconds: UNAVAILABLE_RETRY_SECONDS, reason: 'unavailable' };
    }
  }

  async #begin(address: string | undefined, username: string): Promise<LoginAttempt> {
    const addressKey = address ?? 'unknown';
    const user = normalizeUsername(username);
    const pairKey = `${addressKey}\u0000${user}`;
    const { perAddress, perAddressAndUsername, perUsername, knownAddresses } = this.#limiters;

    // A pair that signed in before skips the shared budgets (1 and 3), which others can spend.
    const known = (await knownAddresses.get(pairKey)) !== null;
    if (!known) {
      const refusedByAddress = await consume(perAddress, addressKey);
      if (refusedByAddress !== undefined)
        return { allowed: false, retryAfterSeconds: refusedByAddress, reason: 'address' };
    }
    const refusedByPair = await consume(perAddressAndUsername, pairKey);
    if (refusedByPair !== undefined) return { allowed: false, retryAfterSeconds: refusedByPair, reason: 'account' };
    if (!known) {
      const refusedByUsername = await consume(perUsername, user);
      if (refusedByUsername !== undefined)
        return { allowed: false, retryAfterSeconds: refusedByUsername, reason: 'account' };
    }
    return {
      allowed: true,
      succeeded: async () => {
        // The password was right: this was not a guess. Give back what it spent, and remember
        // the pair so the owner is not locked out by someone spending the shared budgets. If the
        // store fails now, the user still signs in (the password was checked): only the refund is lost.
        try {
          await perAddressAndUsername.delete(pairKey);
          if (!known) {
            await refund(perAddress, addressKey);
            await refund(perUsername, user);
          }
          await knownAddresses.set(pairKey, 1, this.#knownAddressDuration);
        } catch (error) {
          this.#onStoreError(error);
        }
      },
    };
  }
}

/** Undefined when the point was consumed; else the seconds until the key may try again. */
async function consume(limiter: RateLimiterAbstract, key: string): Promise<number | undefined> {
  try {
    await limiter.consume(key);
    return undefined;
  } catch (rejection) {
    // rate-limiter-flexible rejects with a RateLimiterRes when over the limit, and with an Error
    // when its store fails; a broken store must not silently turn the throttle off.
    if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw rejection;
  }
}

/** Gives one point back, unless the window already ended (a reward then would start a new one below zero). */
async function refund(limiter: RateLimiterAbstract, key: string): Promise<void> {
  const current = await limiter.get(key);
  if (current && current.consumedPoints > 0) await limiter.reward(key);
}

/** Usernames are compared as the login form sends them, trimmed and case-folded, as one account. */
function normalizeUsername(username: string): string {
  return username.trim().normalize('NFKC').toLowerCase();
}

/**
 * How a refused sign-in is answered, the same on every login form: 429 for a throttle (RFC 6585
 * §4), 503 while the shared counters cannot be reached (fail-closed: no password is checked).
 */
export function refusedSignIn(attempt: { retryAfterSeconds: number; reason: 'address' | 'account' | 'unavailable' }): {
  status: 429 | 503;
  message: string;
} {
  if (attempt.reason === 'unavailable') {
    return { status: 503, message: 'Sign-in is temporarily unavailable. Try again shortly.' };
  }
  const minutes = Math.ceil(attempt.retryAfterSeconds / 60);
  const who = attempt.reason === 'address' ? 'from your network' : 'for this account';
  return {
    status: 429,
    message: `Too many failed attempts ${who}. Try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`,
  };
}

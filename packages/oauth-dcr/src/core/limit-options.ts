import type { RegistrationVia } from '../store/types.js';

/*
 * Abuse controls: rate limits, registration caps, address lists, the proxies whose
 * X-Forwarded-For is believed, and re-registration de-duplication. Plain data, checked once;
 * src/limits/ builds the limiters from it.
 */

/**
 * One limit: `points` requests per `duration` seconds, plus an optional `burst` of requests beyond
 * the rate that may come at once and are earned back at the rate (a second counter of `burst`
 * points over `burst * duration / points` seconds, consulted only once the rate is spent: the
 * BurstyRateLimiter construction of rate-limiter-flexible).
 */
export interface RateLimit {
  points: number;
  /** Seconds. */
  duration: number;
  burst?: number;
}

/**
 * Where the counters live. Memory (the default) counts per process; Redis makes every instance
 * count together. The Redis client is yours (ioredis, or node-redis with `package: 'redis'`):
 * the library never imports a driver. Create an ioredis client with `enableOfflineQueue: false`,
 * so that a command while Redis is down fails at once instead of queueing; the limiter also
 * refuses to wait for a client that is not ready, and gives up on a command after `timeoutMs`.
 */
export type RateLimitStore =
  | { kind: 'memory' }
  | {
      kind: 'redis';
      client: unknown;
      package?: 'ioredis' | 'redis';
      /** Prefix of every counter key. Default `oauth-dcr:rl`; instances that share counters share it. */
      keyPrefix?: string;
      /** Milliseconds a counter command may take before it counts as a store error. Default 500. */
      timeoutMs?: number;
    };

/**
 * Rate limits; each may be `false` to turn it off. The defaults (DEFAULT_RATE_LIMITS) are meant
 * for an endpoint open to the internet: generous for real clients, which register once per
 * install, and a wall for scripts.
 */
export interface RateLimitOptions {
  /** Registration attempts per client address (IPv6: per /64). Counted before the body is read. */
  perAddress?: RateLimit | false;
  /** Registration attempts per presented initial access token (keyed by its hash). Counted before the body is read. */
  perInitialAccessToken?: RateLimit | false;
  /** Registrations per `software_id` (per statement issuer and `software_id` for statements). */
  perSoftware?: RateLimit | false;
  /** Client ID Metadata Document resolutions (cache misses, i.e. fetches) per document host. */
  perDocumentHost?: RateLimit | false;
  /** Failed client authentications per client_id (token, revocation, introspection, RFC 7592). */
  failedAuthPerClient?: RateLimit | false;
  /** Failed client authentications per client address. */
  failedAuthPerAddress?: RateLimit | false;
  /** Default memory. */
  store?: RateLimitStore;
  /**
   * When the counter store fails (Redis unreachable): 'open' lets requests through uncounted (and
   * reports it through onError, once per run of failures), 'closed' refuses them with 503
   * temporarily_unavailable. Default 'open'.
   */
  onStoreError?: 'open' | 'closed';
}

/**
 * The defaults, per limit. Registration: a real client registers once per install, so one
 * address gets 30 at once and one a minute after that (a NAT full of developers included); one
 * initial access token 50 at once and 100 an hour; one software_id, which every install of that
 * software shares, 300 a minute plus 300 at once (a global bucket anyone may claim, so it is kept
 * well above any real launch rate). Metadata documents: 30 fetches at once per host, then one a
 * second (cache hits never count). Failed client authentication: 20 at once and 10 a minute per
 * client_id and per address.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<LimitName, Readonly<RateLimit>>> = Object.freeze({
  perAddress: { points: 60, duration: 3600, burst: 30 },
  perInitialAccessToken: { points: 100, duration: 3600, burst: 50 },
  perSoftware: { points: 300, duration: 60, burst: 300 },
  perDocumentHost: { points: 60, duration: 60, burst: 30 },
  failedAuthPerClient: { points: 10, duration: 60, burst: 20 },
  failedAuthPerAddress: { points: 10, duration: 60, burst: 20 },
});

/** The names of the individual limits in RateLimitOptions. */
export type LimitName =
  | 'perAddress'
  | 'perInitialAccessToken'
  | 'perSoftware'
  | 'perDocumentHost'
  | 'failedAuthPerClient'
  | 'failedAuthPerAddress';

const LIMIT_NAMES = Object.keys(DEFAULT_RATE_LIMITS) as LimitName[];

/** Caps on stored clients; a registration over a cap is refused (503 temporarily_unavailable). */
export interface RegistrationCaps {
  /** All stored clients together. */
  total?: number;
  /** Per tier. */
  perTier?: Partial<Record<RegistrationVia, number>>;
}

/** Address lists for open (anonymous) registration: CIDRs or single addresses. */
export interface RegistrationAddressLists {
  /** When set, only these addresses may register without a token. */
  allow?: string[];
  /** These addresses may never register without a token (checked before `allow`). */
  deny?: string[];
}

/** Opt-in re-registration de-duplication for public clients. */
export interface DeduplicationOptions {
  /** Seconds within which an identical registration reuses the existing client. */
  window: number;
}

/** The abuse-control options of RegistrationOptions. */
export interface LimitOptions {
  /** Rate limits, on by default (DEFAULT_RATE_LIMITS); `false` turns every one off. */
  rateLimits?: RateLimitOptions | false;
  registrationCaps?: RegistrationCaps;
  registrationAddresses?: RegistrationAddressLists;
  /**
   * Proxies (CIDRs or addresses) whose `X-Forwarded-For` is believed. Unset: the client address is
   * the socket's peer, and the header changes nothing.
   */
  trustProxy?: string[];
  /** Off by default. */
  deduplicatePublicClients?: DeduplicationOptions | false;
}

/** RateLimitOptions with defaults applied: each limit checked, or null when off. */
export interface ResolvedRateLimits {
  limits: Readonly<Record<LimitName, Readonly<RateLimit> | null>>;
  store: RateLimitStore;
  onStoreError: 'open' | 'closed';
}

/** LimitOptions checked; src/limits/ builds the services. */
export interface ResolvedLimitOptions {
  rateLimits: ResolvedRateLimits | false;
  registrationCaps: RegistrationCaps;
  registrationAddresses: RegistrationAddressLists;
  trustProxy: readonly string[];
  deduplicatePublicClients: DeduplicationOptions | false;
}

function fail(message: string): never {
  throw new TypeError(`oauth-dcr: ${message}`);
}

const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;

function checkRateLimit(name: string, value: RateLimit): Readonly<RateLimit> {
  if (typeof value !== 'object' || value === null)
    fail(`rateLimits.${name} must be { points, duration, burst? } or false`);
  const { points, duration, burst } = value;
  if (!Number.isInteger(points) || points < 1) fail(`rateLimits.${name}.points must be a whole number >= 1`);
  if (!Number.isInteger(duration) || duration < 1) fail(`rateLimits.${name}.duration must be whole seconds >= 1`);
  if (burst !== undefined && !isCount(burst)) fail(`rateLimits.${name}.burst must be a whole number >= 0`);
  return Object.freeze(burst ? { points, duration, burst } : { points, duration });
}

function resolveRateLimits(options: RateLimitOptions | false | undefined): ResolvedRateLimits | false {
  if (options === false) return false;
  const given = options ?? {};
  const limits = {} as Record<LimitName, Readonly<RateLimit> | null>;
  for (const name of LIMIT_NAMES) {
    const value = given[name];
    limits[name] = value === false ? null : checkRateLimit(name, value ?? DEFAULT_RATE_LIMITS[name]);
  }
  const store = given.store ?? { kind: 'memory' };
  if (store.kind === 'redis') {
    if (typeof store.client !== 'object' || store.client === null)
      fail('rateLimits.store.client must be a Redis client');
    if (store.timeoutMs !== undefined && !(Number.isInteger(store.timeoutMs) && store.timeoutMs > 0))
      fail('rateLimits.store.timeoutMs must be a whole number of milliseconds > 0');
  } else if (store.kind !== 'memory') {
    fail("rateLimits.store.kind must be 'memory' or 'redis'");
  }
  const onStoreError = given.onStoreError ?? 'open';
  if (onStoreError !== 'open' && onStoreError !== 'closed') fail("rateLimits.onStoreError must be 'open' or 'closed'");
  return { limits, store, onStoreError };
}

function checkCaps(caps: RegistrationCaps): RegistrationCaps {
  if (caps.total !== undefined && !isCount(caps.total)) fail('registrationCaps.total must be a whole number >= 0');
  for (const [tier, cap] of Object.entries(caps.perTier ?? {})) {
    if (!isCount(cap)) fail(`registrationCaps.perTier.${tier} must be a whole number >= 0`);
  }
  return caps;
}

export function resolveLimitOptions(options: LimitOptions): ResolvedLimitOptions {
  const dedup = options.deduplicatePublicClients ?? false;
  if (dedup !== false && !(Number.isInteger(dedup.window) && dedup.window > 0))
    fail('deduplicatePublicClients.window must be whole seconds > 0');
  return {
    rateLimits: resolveRateLimits(options.rateLimits),
    registrationCaps: checkCaps(options.registrationCaps ?? {}),
    registrationAddresses: options.registrationAddresses ?? {},
    trustProxy: options.trustProxy ?? [],
    deduplicatePublicClients: dedup,
  };
}

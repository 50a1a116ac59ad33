import type { RegistrationVia } from '../store/types.js';

/*
 * Abuse controls: rate limits, registration caps, address lists, the proxies whose
 * X-Forwarded-For is believed, and re-registration de-duplication. Plain data, checked once;
 * src/limits/ builds the limiters from it.
 */

/**
 * One limit: `points` requests per `duration` seconds, plus an optional `burst` of requests beyond
 * the rate that may come at once and are earned back at the rate.
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
 * the library never imports a driver.
 */
export type RateLimitStore = { kind: 'memory' } | { kind: 'redis'; client: unknown; package?: 'ioredis' | 'redis' };

/** Rate limits; each may be `false` to turn it off. Defaults are documented in the README. */
export interface RateLimitOptions {
  /** Registration attempts per client address. */
  perAddress?: RateLimit | false;
  /** Registrations per initial access token. */
  perInitialAccessToken?: RateLimit | false;
  /** Registrations per `software_id` (per statement issuer and `software_id` for statements). */
  perSoftware?: RateLimit | false;
  /** Client ID Metadata Document resolutions (cache misses) per document host. */
  perDocumentHost?: RateLimit | false;
  /** Failed client authentications per client_id (token, revocation, introspection, RFC 7592). */
  failedAuthPerClient?: RateLimit | false;
  /** Failed client authentications per client address. */
  failedAuthPerAddress?: RateLimit | false;
  /** Default memory. */
  store?: RateLimitStore;
  /**
   * When the counter store fails (Redis unreachable): 'open' lets requests through uncounted (and
   * reports it through onError), 'closed' refuses them with 503. Default 'open'.
   */
  onStoreError?: 'open' | 'closed';
}

/** Caps on stored clients; a registration over a cap is refused. */
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
  /** Rate limits, on by default; `false` turns every one off. */
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

/** LimitOptions checked; src/limits/ builds the services. */
export interface ResolvedLimitOptions {
  rateLimits: RateLimitOptions | false;
  registrationCaps: RegistrationCaps;
  registrationAddresses: RegistrationAddressLists;
  trustProxy: readonly string[];
  deduplicatePublicClients: DeduplicationOptions | false;
}

export function resolveLimitOptions(options: LimitOptions): ResolvedLimitOptions {
  return {
    rateLimits: options.rateLimits ?? {},
    registrationCaps: options.registrationCaps ?? {},
    registrationAddresses: options.registrationAddresses ?? {},
    trustProxy: options.trustProxy ?? [],
    deduplicatePublicClients: options.deduplicatePublicClients ?? false,
  };
}

import type { LifecycleOptions, LimitOptions, RateLimitOptions } from 'oauth-dcr';
import { RATE_LIMIT_SETTINGS, type ServerConfig } from './config.js';

/**
 * The library's abuse-control and lifecycle options from the server's settings (DCR_RATE_LIMITS,
 * DCR_LIMIT_*, DCR_TRUST_PROXY, DCR_MAX_CLIENTS*, DCR_REGISTER_ALLOW/DENY, DCR_DEDUPLICATE_WINDOW,
 * DCR_REAP_*, DCR_AUDIT_RETENTION). A limit left unset keeps the library's documented default;
 * the counters live in Redis when a client is given (REDIS_URL), in memory otherwise.
 */
export function registrationLimitOptions(
  config: ServerConfig,
  redisClient: unknown | undefined,
): LimitOptions & LifecycleOptions {
  return {
    trustProxy: config.trustProxy,
    rateLimits: rateLimitOptions(config, redisClient),
    registrationCaps: {
      ...(config.caps.total !== undefined ? { total: config.caps.total } : {}),
      perTier: config.caps.perTier,
    },
    registrationAddresses: config.registrationAddresses,
    deduplicatePublicClients: config.deduplicateWindow !== undefined ? { window: config.deduplicateWindow } : false,
    idleClients: config.idleClients,
    auditRetention: config.auditRetention,
  };
}

function rateLimitOptions(config: ServerConfig, redisClient: unknown | undefined): RateLimitOptions | false {
  const limits = config.rateLimits;
  if (limits === false) return false;
  const options: RateLimitOptions = {
    onStoreError: limits.onStoreError,
    store: redisClient !== undefined ? { kind: 'redis', client: redisClient, package: 'ioredis' } : { kind: 'memory' },
  };
  for (const key of Object.keys(RATE_LIMIT_SETTINGS) as (keyof typeof RATE_LIMIT_SETTINGS)[]) {
    const limit = limits[key];
    if (limit !== undefined) options[key] = limit;
  }
  return options;
}

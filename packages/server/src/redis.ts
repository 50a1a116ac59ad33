import { Redis } from 'ioredis';
import { maskUrlPassword } from 'oauth-dcr/admin';
import type { Logger } from './logger.js';

/**
 * The one Redis connection of a server (REDIS_URL): the library's rate-limit counters and the
 * login throttle share it, so that every instance counts together.
 *
 * It is built to fail fast, never to wait: a counter that cannot be read must answer at once with
 * the documented choice (fail-open for registration limits, fail-closed for sign-in), never hold
 * a request until Redis comes back. So:
 * - no offline queue: a command while disconnected is refused at once instead of queued;
 * - short connect and command timeouts: a half-open connection (a cut network path, where no RST
 *   ever arrives) is noticed within a second;
 * - it reconnects in the background with a capped back-off, for as long as the server runs;
 * - an outage is logged once when it starts and once when it ends, however many commands fail
 *   in between, and never crashes the process (an 'error' listener is always attached).
 */
export interface RedisConnection {
  client: Redis;
  /** The URL without its password, for the banner and the log. */
  description: string;
  close(): Promise<void>;
}

export interface RedisConnectionOptions {
  /** Prepended to every key (DCR_REDIS_KEY_PREFIX), so that deployments can share one Redis. */
  keyPrefix: string;
  logger: Logger;
}

/** A command slower than this is failed (and counted as Redis being unavailable). */
const COMMAND_TIMEOUT_MS = 500;
const CONNECT_TIMEOUT_MS = 1000;
/** Reconnection back-off: 100 ms, 200 ms, ... capped here. */
const MAX_RECONNECT_DELAY_MS = 2000;

export function openRedis(url: string, options: RedisConnectionOptions): RedisConnection {
  const { logger } = options;
  const description = maskUrlPassword(url);
  const client = new Redis(url, {
    keyPrefix: options.keyPrefix,
    enableOfflineQueue: false,
    // Connect in the background: the server starts even while Redis is down (the limits then
    // apply their store-error choice), and catches up once Redis answers.
    lazyConnect: false,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    // A monitoring name for CLIENT LIST; no secret in it.
    connectionName: 'oauth-dcr-server',
  });
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    // The message of a connection error names host and port, never the password.
    logger.warn(
      { redis: description, err: { message: error.message } },
      'Redis unavailable; retrying in the background',
    );
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({ redis: description }, 'Redis available again');
  });
  return {
    client,
    description,
    async close() {
      // quit() waits for replies in flight; when Redis is unreachable it would wait for nothing.
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

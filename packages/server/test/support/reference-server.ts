import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';

export const DEMO_USERNAME = 'alice';
export const DEMO_PASSWORD = 'correct horse battery staple';

export interface TestServer extends RunningServer {
  /** Stops the server and removes its temporary database. */
  stop(): Promise<void>;
}

/** Settings that choose rate limits: a test passing any of them gets the limits it asked for. */
const RATE_LIMIT_SETTING = /^(DCR_RATE_LIMITS?|DCR_LIMIT_|DCR_RATE_LIMIT_)/;

/**
 * The real reference server on 127.0.0.1 and an ephemeral port, with a fresh SQLite file (or
 * memory) and a known user. Extra environment variables configure it as `oauth-dcr serve` would be.
 *
 * Rate limits are off (DCR_RATE_LIMITS=off) unless the test passes a limit setting of its own: the
 * suites register many clients from 127.0.0.1, which the default per-address limit would refuse.
 * The rate-limit suites pass theirs (DCR_RATE_LIMITS=on for the defaults).
 */
export async function startTestServer(
  options: { store?: 'sqlite' | 'memory'; env?: Record<string, string>; logger?: Logger } = {},
): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-test-'));
  const { config } = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DCR_STORE: options.store ?? 'sqlite',
    DATABASE_PATH: join(dir, 'test.db'),
    DCR_DEMO_USER: `${DEMO_USERNAME}:${DEMO_PASSWORD}`,
    LOG_LEVEL: 'silent',
    ...(Object.keys(options.env ?? {}).some((name) => RATE_LIMIT_SETTING.test(name)) ? {} : { DCR_RATE_LIMITS: 'off' }),
    ...options.env,
  });
  let server: RunningServer;
  try {
    server = await startServer(config, { logger: options.logger ?? silentLogger() });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return Object.assign(server, {
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}

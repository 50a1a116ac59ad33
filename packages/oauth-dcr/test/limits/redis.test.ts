import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { RateLimitOptions } from '../../src/index.js';
import { requireService } from '../support/services.js';
import { makeRegistration } from '../support/registration.js';
import { isRateLimited, registerFrom } from './support.js';

const url = requireService('DCR_TEST_REDIS_URL', process.env.DCR_TEST_REDIS_URL);

/**
 * A TCP proxy in front of the real Redis that the test can cut (connections reset, new ones
 * refused) or stall (connected, but nothing comes back: a half-open path, the case a timeout
 * must cover).
 */
async function redisProxy(target: URL) {
  const sockets = new Set<Socket>();
  let mode: 'pass' | 'cut' | 'stall' = 'pass';
  const server: Server = createServer((client) => {
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const upstream = createConnectionTo(target);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => mode === 'pass' && upstream.write(chunk));
    upstream.on('data', (chunk) => mode === 'pass' && client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      mode = 'cut';
      for (const socket of sockets) socket.destroy();
    },
    stall() {
      mode = 'stall';
    },
    restore() {
      mode = 'pass';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function createConnectionTo(target: URL): Socket {
  return connect(Number(target.port || 6379), target.hostname);
}

/** An ioredis client as the docs ask for one: no offline queue, quick to give up, reconnecting. */
function client(redisUrl: string): Redis {
  const redis = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 500,
    retryStrategy: () => 50,
  });
  redis.on('error', () => {});
  return redis;
}

async function ready(redis: Redis): Promise<void> {
  for (let i = 0; i < 200 && redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(redis.status, 'ready');
}

if (url) {
  const prefix = `oauth-dcr-test:${randomBytes(5).toString('hex')}`;
  const clients: Redis[] = [];
  const open = (redisUrl = url) => {
    const redis = client(redisUrl);
    clients.push(redis);
    return redis;
  };
  after(async () => {
    const admin = new Redis(url);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
    for (const redis of clients) redis.disconnect();
  });

  const limits = (
    redis: Redis,
    extra: Partial<RateLimitOptions> = {},
    name = randomBytes(3).toString('hex'),
  ): RateLimitOptions => ({
    perAddress: { points: 3, duration: 60 },
    perSoftware: false,
    failedAuthPerAddress: { points: 1, duration: 60 },
    store: { kind: 'redis', client: redis, package: 'ioredis', keyPrefix: `${prefix}:${name}`, timeoutMs: 300 },
    ...extra,
  });

  describe('Rate limits in Redis', () => {
    it('are shared by two Registration instances: a limit spent across both', async () => {
      const name = 'shared';
      const a = makeRegistration({ rateLimits: limits(open(), {}, name) });
      const b = makeRegistration({ rateLimits: limits(open(), {}, name) });
      await Promise.all(clients.map(ready));
      assert.equal((await registerFrom(a, '198.51.100.1')).status, 201);
      assert.equal((await registerFrom(b, '198.51.100.1')).status, 201);
      assert.equal((await registerFrom(a, '198.51.100.1')).status, 201);
      assert.ok(isRateLimited(await registerFrom(b, '198.51.100.1')));
      assert.ok(isRateLimited(await registerFrom(a, '198.51.100.1')));
      assert.equal((await registerFrom(b, '198.51.100.2')).status, 201);
    });

    it('fail open: with Redis unreachable, requests go through uncounted and onError hears it once per outage', async () => {
      const proxy = await redisProxy(new URL(url));
      try {
        const redis = open(proxy.url);
        await ready(redis);
        const errors: unknown[] = [];
        const dcr = makeRegistration({ rateLimits: limits(redis), onError: (e) => errors.push(e) });
        assert.equal((await registerFrom(dcr, '198.51.100.3')).status, 201);
        proxy.cut();
        for (let i = 0; i < 6; i++) assert.equal((await registerFrom(dcr, '198.51.100.3')).status, 201);
        assert.equal(errors.length, 1);
        assert.match(String((errors[0] as Error).message), /let through uncounted/);
        // Back: counting resumes where Redis left it (1 counted), and a new outage is reported again.
        proxy.restore();
        await ready(redis);
        assert.equal((await registerFrom(dcr, '198.51.100.3')).status, 201);
        assert.equal((await registerFrom(dcr, '198.51.100.3')).status, 201);
        assert.ok(isRateLimited(await registerFrom(dcr, '198.51.100.3')));
        proxy.cut();
        assert.equal((await registerFrom(dcr, '198.51.100.3')).status, 201);
        assert.equal(errors.length, 2);
      } finally {
        await proxy.close();
      }
    });

    it('fail closed: with Redis unreachable, 503 temporarily_unavailable with Retry-After, also for failed authentication', async () => {
      const proxy = await redisProxy(new URL(url));
      try {
        const redis = open(proxy.url);
        await ready(redis);
        const errors: unknown[] = [];
        const dcr = makeRegistration({
          rateLimits: limits(redis, { onStoreError: 'closed' }),
          onError: (e) => errors.push(e),
        });
        assert.equal((await registerFrom(dcr, '198.51.100.4')).status, 201);
        proxy.cut();
        for (let i = 0; i < 3; i++) {
          const refused = await registerFrom(dcr, '198.51.100.4');
          assert.equal(refused.status, 503);
          assert.equal(refused.body.error, 'temporarily_unavailable');
          assert.ok(Number(refused.headers['Retry-After']) >= 1);
        }
        const check = await dcr.authenticationLimits.checkAddress('198.51.100.4', 'token');
        assert.equal(check?.error.status, 503);
        assert.equal(errors.length, 1);
        proxy.restore();
        await ready(redis);
        assert.equal((await registerFrom(dcr, '198.51.100.4')).status, 201);
      } finally {
        await proxy.close();
      }
    });

    it('never hangs on a Redis that stops answering: the command times out into the store-error choice', async () => {
      const proxy = await redisProxy(new URL(url));
      try {
        const redis = open(proxy.url);
        await ready(redis);
        const open_ = makeRegistration({ rateLimits: limits(redis), onError: () => {} });
        const closed = makeRegistration({ rateLimits: limits(redis, { onStoreError: 'closed' }), onError: () => {} });
        proxy.stall();
        assert.equal(redis.status, 'ready', 'the client cannot tell: only a timeout can');
        assert.equal((await registerFrom(open_, '198.51.100.5')).status, 201);
        assert.equal((await registerFrom(closed, '198.51.100.5')).status, 503);
      } finally {
        await proxy.close();
      }
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createFetchCache } from '../../src/net/fetch-cache.js';
import { SafeFetchError, type SafeFetchOptions } from '../../src/net/safe-fetch.js';
import { makeCertificate, startServer, type LocalServer, type TestCertificate } from './local-https.js';

const certificate = makeCertificate();
const skip = 'skip' in certificate ? certificate.skip : false;
if (skip) process.stderr.write(`skipping fetch-cache tests: ${skip}\n`);

describe('createFetchCache', { skip }, () => {
  let server: LocalServer;
  let options: SafeFetchOptions;
  let clock = 0;
  const now = (): number => clock;
  let served = 0;
  let failing = false;

  before(async () => {
    // /doc?cc=<Cache-Control> answers a fresh document each time, so a cache hit is visible.
    server = await startServer(certificate as TestCertificate, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://x');
      if (failing) {
        res.writeHead(503, { 'content-type': 'application/json' });
        return void res.end('{}');
      }
      served += 1;
      const cacheControl = url.searchParams.get('cc');
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(cacheControl ? { 'cache-control': cacheControl } : {}),
      });
      res.end(JSON.stringify({ served, nested: { list: [1] } }));
    });
    options = { allowAddresses: ['127.0.0.1'], ca: (certificate as TestCertificate).cert };
  });
  after(() => server.close());
  beforeEach(() => {
    clock = 0;
    served = 0;
    failing = false;
  });

  const url = (query = ''): string => `${server.origin}/doc${query}`;

  it('answers from the cache until the default TTL passes', async () => {
    const cache = createFetchCache({ ttlSeconds: 300, now });
    assert.deepEqual(await cache.json(url(), options), { served: 1, nested: { list: [1] } });
    clock = 299_000;
    assert.equal(((await cache.json(url(), options)) as { served: number }).served, 1);
    clock = 300_000;
    assert.equal(((await cache.json(url(), options)) as { served: number }).served, 2);
    assert.equal(served, 2);
  });

  it('honours max-age within the floor and the ceiling', async () => {
    const cache = createFetchCache({ ttlSeconds: 300, minTtlSeconds: 60, maxTtlSeconds: 3600, now });
    const expiry = async (cacheControl: string): Promise<number> => {
      const target = url(`?cc=${encodeURIComponent(cacheControl)}`);
      clock = 0;
      await cache.json(target, options);
      const first = served;
      // Step the clock a minute at a time until the entry is refetched.
      for (let minutes = 1; minutes <= 120; minutes++) {
        clock = minutes * 60_000;
        await cache.json(target, options);
        if (served !== first) return minutes;
      }
      return Infinity;
    };
    assert.equal(await expiry('public, max-age=600'), 10);
    assert.equal(await expiry('max-age=5'), 1, 'raised to the floor');
    assert.equal(await expiry('no-store'), 1, 'no-store still waits for the floor');
    assert.equal(await expiry('max-age=999999'), 60, 'lowered to the ceiling');
  });

  it('shares one fetch between concurrent callers', async () => {
    const cache = createFetchCache({ now });
    const results = await Promise.all([
      cache.json(url(), options),
      cache.json(url(), options),
      cache.json(url(), options),
    ]);
    assert.equal(served, 1);
    assert.ok(results.every((value) => value === results[0]));
  });

  it('freezes the shared value', async () => {
    const cache = createFetchCache({ now });
    const value = (await cache.json(url(), options)) as { nested: { list: number[] } };
    assert.throws(() => value.nested.list.push(2), TypeError);
  });

  it('does not cache failures', async () => {
    const cache = createFetchCache({ now });
    failing = true;
    await assert.rejects(
      cache.json(url(), options),
      (error: unknown) => error instanceof SafeFetchError && error.reason === 'status',
    );
    failing = false;
    assert.equal(((await cache.json(url(), options)) as { served: number }).served, 1);
    assert.equal(cache.size, 1);
  });

  it('drops the least recently used entry beyond maxEntries', async () => {
    const cache = createFetchCache({ maxEntries: 2, now });
    await cache.json(url('?a'), options);
    await cache.json(url('?b'), options);
    await cache.json(url('?a'), options); // a is now the most recently used
    await cache.json(url('?c'), options); // evicts b
    assert.equal(cache.size, 2);
    assert.equal(served, 3);
    await cache.json(url('?a'), options);
    assert.equal(served, 3, 'a was kept');
    await cache.json(url('?b'), options);
    assert.equal(served, 4, 'b was refetched');
  });

  it('delete and clear forget entries', async () => {
    const cache = createFetchCache({ now });
    await cache.json(url(), options);
    cache.delete(url());
    await cache.json(url(), options);
    assert.equal(served, 2);
    cache.clear();
    assert.equal(cache.size, 0);
  });

  it('rejects nonsensical settings', () => {
    assert.throws(() => createFetchCache({ maxEntries: -1 }), TypeError);
    assert.throws(() => createFetchCache({ minTtlSeconds: 100, maxTtlSeconds: 10 }), TypeError);
  });
});

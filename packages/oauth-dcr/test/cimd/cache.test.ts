/**
 * Caching documents (CIMD §4.4; SEP-991): Cache-Control and Expires honoured within
 * [60 s, 24 h], 5 minutes by default; errors and invalid documents never cached; concurrent
 * look-ups of a cold URL share one fetch; a bounded, least-recently-used cache. Requests are
 * counted by the document server.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Registration } from 'oauth-dcr';
import { minimalDocument, skip, startDocumentServer, type DocumentServer } from './harness.js';

describe('the document cache', { skip }, () => {
  let server: DocumentServer;
  let clock = 1_000_000;
  let dcr: Registration;
  let n = 0;
  before(async () => {
    server = await startDocumentServer();
  });
  after(() => server?.close());
  beforeEach(() => {
    server.reset();
    clock = 1_000_000;
    dcr = server.registration({ now: () => clock });
  });

  /** A fresh path served with `headers`; returns its client_id and path. */
  function serveFresh(headers?: Record<string, string>): { clientId: string; path: string } {
    n += 1;
    const path = `/cached-${n}.json`;
    const clientId = `${server.origin}${path}`;
    server.serve(path, minimalDocument(clientId), headers);
    return { clientId, path };
  }

  /** Seconds the document stays cached: looked up at 0, then just before and at the expiry. */
  async function lifetime(headers?: Record<string, string>): Promise<number> {
    const { clientId, path } = serveFresh(headers);
    const start = clock;
    await dcr.lookupClient(clientId);
    for (const seconds of [59, 60, 299, 300, 599, 600, 86_399, 86_400]) {
      clock = start + seconds;
      const before = server.hitsOf(path);
      await dcr.lookupClient(clientId);
      if (server.hitsOf(path) > before) return seconds;
    }
    return Number.POSITIVE_INFINITY;
  }

  it('max-age=600: one fetch for two look-ups, then a refetch after ten minutes', async () => {
    const { clientId, path } = serveFresh({ 'cache-control': 'max-age=600' });
    await dcr.lookupClient(clientId);
    await dcr.lookupClient(clientId);
    assert.equal(server.hitsOf(path), 1);
    assert.equal(await lifetime({ 'cache-control': 'max-age=600' }), 600);
  });

  it('no header: the 5 minute default', async () => {
    assert.equal(await lifetime(), 300);
  });

  it('no-store: the 60 second floor', async () => {
    assert.equal(await lifetime({ 'cache-control': 'no-store' }), 60);
  });

  it('max-age below the floor is raised to 60 s; above the ceiling, cut to 24 h', async () => {
    assert.equal(await lifetime({ 'cache-control': 'max-age=1' }), 60);
    assert.equal(await lifetime({ 'cache-control': 'max-age=31536000' }), 86_400);
  });

  it('Expires, measured against Date', async () => {
    const date = new Date(Date.UTC(2026, 0, 1, 0, 0, 0));
    const expires = new Date(date.getTime() + 600_000);
    assert.equal(await lifetime({ date: date.toUTCString(), expires: expires.toUTCString() }), 600);
  });

  it('the bounds are the deployment’s to set', async () => {
    dcr = server.registration({
      now: () => clock,
      clientIdMetadataDocuments: { cache: { defaultTtlSeconds: 599, minTtlSeconds: 299, maxTtlSeconds: 600 } },
    });
    assert.equal(await lifetime(), 599);
    assert.equal(await lifetime({ 'cache-control': 'no-store' }), 299);
    assert.equal(await lifetime({ 'cache-control': 'max-age=86400' }), 600);
  });

  it('never caches an error response: the next look-up fetches again', async () => {
    n += 1;
    const path = `/flaky-${n}.json`;
    const clientId = `${server.origin}${path}`;
    server.routes.set(path, { status: 500, body: { error: 'down' }, headers: { 'cache-control': 'max-age=600' } });
    assert.equal((await dcr.lookupClient(clientId)).kind, 'refused');
    server.serve(path, minimalDocument(clientId));
    assert.equal((await dcr.lookupClient(clientId)).kind, 'found');
    assert.equal(server.hitsOf(path), 2);
  });

  it('never caches an invalid document', async () => {
    n += 1;
    const path = `/invalid-${n}.json`;
    const clientId = `${server.origin}${path}`;
    server.serve(path, minimalDocument(`${clientId}/`), { 'cache-control': 'max-age=600' });
    assert.equal((await dcr.lookupClient(clientId)).kind, 'refused');
    assert.equal((await dcr.lookupClient(clientId)).kind, 'refused');
    assert.equal(server.hitsOf(path), 2);
    server.serve(path, minimalDocument(clientId));
    assert.equal((await dcr.lookupClient(clientId)).kind, 'found');
  });

  it('two concurrent look-ups of a cold URL make exactly one fetch', async () => {
    const { clientId, path } = serveFresh();
    server.routes.set(path, { body: minimalDocument(clientId), delayMs: 100 });
    const [a, b] = await Promise.all([dcr.lookupClient(clientId), dcr.lookupClient(clientId)]);
    assert.equal(a.kind, 'found');
    assert.equal(b.kind, 'found');
    assert.equal(server.hitsOf(path), 1);
  });

  it('64 concurrent look-ups of a cold URL make exactly one fetch', async () => {
    const { clientId, path } = serveFresh();
    server.routes.set(path, { body: minimalDocument(clientId), delayMs: 100 });
    const lookups = await Promise.all(Array.from({ length: 64 }, () => dcr.lookupClient(clientId)));
    assert.ok(lookups.every((lookup) => lookup.kind === 'found'));
    assert.equal(server.hitsOf(path), 1);
  });

  it('concurrent look-ups of a failing URL share the one failure, and the next look-up tries again', async () => {
    n += 1;
    const path = `/failing-${n}.json`;
    const clientId = `${server.origin}${path}`;
    server.routes.set(path, { status: 404, delayMs: 100 });
    const lookups = await Promise.all(Array.from({ length: 8 }, () => dcr.lookupClient(clientId)));
    assert.ok(lookups.every((lookup) => lookup.kind === 'refused'));
    assert.equal(server.hitsOf(path), 1);
    await dcr.lookupClient(clientId);
    assert.equal(server.hitsOf(path), 2);
  });

  it('keeps at most maxEntries documents, dropping the least recently used', async () => {
    dcr = server.registration({ now: () => clock, clientIdMetadataDocuments: { cache: { maxEntries: 2 } } });
    const a = serveFresh();
    const b = serveFresh();
    const c = serveFresh();
    await dcr.lookupClient(a.clientId);
    await dcr.lookupClient(b.clientId);
    await dcr.lookupClient(a.clientId); // a is now the most recently used
    await dcr.lookupClient(c.clientId); // evicts b
    await dcr.lookupClient(a.clientId);
    await dcr.lookupClient(b.clientId);
    assert.equal(server.hitsOf(a.path), 1);
    assert.equal(server.hitsOf(b.path), 2);
    assert.equal(server.hitsOf(c.path), 1);
  });

  it('records the fetch time on the client', async () => {
    const { clientId } = serveFresh();
    const lookup = await dcr.lookupClient(clientId);
    assert.ok(lookup.kind === 'found');
    assert.equal(lookup.client.clientIdIssuedAt, clock);
    assert.equal(lookup.client.createdAt, clock);
    assert.equal(lookup.client.updatedAt, clock);
    assert.ok(Object.isFrozen(lookup.client) && Object.isFrozen(lookup.client.metadata));
  });
});

/**
 * Client ID Metadata Documents: fetches (cache misses) per document host are limited; cache hits
 * are not; every fetch's outcome is an event (`client_document.fetched`, for metrics).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from 'oauth-dcr';
import { minimalDocument, skip, startDocumentServer, type DocumentServer } from '../cimd/harness.js';

describe('Client ID Metadata Document fetches', { skip }, () => {
  let server: DocumentServer;
  before(async () => {
    server = await startDocumentServer();
  });
  after(() => server?.close());

  it('are limited per host on cache misses only; the refusal says when to come back', async () => {
    const events: AuditEvent[] = [];
    const dcr = server.registration({
      rateLimits: { perDocumentHost: { points: 2, duration: 60 } },
      onEvent: (event) => events.push(event),
    });
    const ids = [1, 2, 3].map((n) =>
      server.serve(`/host-${n}.json`, minimalDocument(`${server.origin}/host-${n}.json`)),
    );
    assert.equal((await dcr.lookupClient(ids[0]!)).kind, 'found');
    assert.equal((await dcr.lookupClient(ids[1]!)).kind, 'found');
    // Cached: no fetch, nothing counted.
    for (let i = 0; i < 5; i++) assert.equal((await dcr.lookupClient(ids[0]!)).kind, 'found');
    const refused = await dcr.lookupClient(ids[2]!);
    assert.equal(refused.kind, 'refused');
    assert.equal(refused.kind === 'refused' && refused.error, 'invalid_client');
    assert.match(
      refused.kind === 'refused' ? refused.description : '',
      /too many metadata document fetches from localhost:\d+; retry after \d+ seconds/,
    );
    assert.equal(server.hitsOf('/host-3.json'), 0, 'refused before any traffic');
    const limited = events.filter((e) => e.type === 'request.rate_limited');
    assert.deepEqual(
      limited.map((e) => e.detail),
      [{ limit: 'document_host', endpoint: 'client_document' }],
    );
  });

  it('report each fetch as ok, refused (a document this server will not use) or error (no document)', async () => {
    const events: AuditEvent[] = [];
    const dcr = server.registration({ onEvent: (event) => events.push(event) });
    const good = server.serve('/fetched-ok.json', minimalDocument(`${server.origin}/fetched-ok.json`));
    const bad = server.serve(
      '/fetched-bad.json',
      minimalDocument(`${server.origin}/fetched-bad.json`, { client_secret: 'not allowed in a document' }),
    );
    await dcr.lookupClient(good);
    await dcr.lookupClient(good);
    await dcr.lookupClient(bad);
    await dcr.lookupClient(`${server.origin}/missing.json`);
    const host = new URL(server.origin).host;
    assert.deepEqual(
      events.filter((e) => e.type === 'client_document.fetched').map((e) => e.detail),
      [
        { outcome: 'ok', host },
        { outcome: 'refused', host },
        { outcome: 'error', host },
      ],
    );
  });
});

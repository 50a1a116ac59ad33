// Client ID Metadata Document fetches in oauth-dcr/prometheus, through real look-ups against a
// local https server (the CIMD test harness): fetched, refused by the document, failed, and cached.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memoryStore } from 'oauth-dcr/memory';
import { registrationMetrics } from 'oauth-dcr/prometheus';
import { Registry } from 'prom-client';
import { minimalDocument, skip, startDocumentServer, type DocumentServer } from '../cimd/harness.js';
import { parseExposition, sampleValue } from '../support/prometheus-text.js';

describe('oauth-dcr/prometheus: metadata document fetches', { skip }, () => {
  let server: DocumentServer;
  before(async () => {
    server = await startDocumentServer();
  });
  after(() => server?.close());

  it('counts each fetch by outcome, never a cache hit, and never the host', async () => {
    const registry = new Registry();
    const store = memoryStore();
    const metrics = registrationMetrics({ registration: { store }, registry, clientCountMaxAge: 0 });
    const dcr = server.registration({ store, onEvent: metrics.onEvent });

    const good = server.serve('/metrics-good.json', minimalDocument(`${server.origin}/metrics-good.json`));
    assert.equal((await dcr.lookupClient(good)).kind, 'found');
    assert.equal((await dcr.lookupClient(good)).kind, 'found', 'the second look-up is a cache hit');
    // A document naming another client_id is refused (CIMD §4.1).
    const wrong = server.serve('/metrics-wrong.json', minimalDocument('https://elsewhere.example/doc.json'));
    assert.equal((await dcr.lookupClient(wrong)).kind, 'refused');
    // Nothing served there: a 404 from the document's host.
    assert.equal((await dcr.lookupClient(`${server.origin}/metrics-missing.json`)).kind, 'refused');

    const text = await registry.metrics();
    const samples = parseExposition(text);
    const fetches = 'oauth_dcr_client_document_fetches_total';
    assert.equal(sampleValue(samples, fetches, { outcome: 'ok' }), 1);
    assert.equal(sampleValue(samples, fetches, { outcome: 'refused' }), 1, 'a document that was fetched but refused');
    assert.equal(sampleValue(samples, fetches, { outcome: 'error' }), 1, 'a fetch that failed');
    // Each refused document is also a refused registration in the metadata_document tier.
    assert.equal(
      samples
        .filter((s) => s.name === 'oauth_dcr_registrations_total' && s.labels.tier === 'metadata_document')
        .reduce((sum, s) => sum + s.value, 0),
      2,
    );
    assert.ok(!text.includes('localhost') && !text.includes(server.origin), 'the document host is no label');
  });
});

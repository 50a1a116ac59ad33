/**
 * Fetching a document (CIMD §4, §6.5, §6.6): through safe-fetch, 200 only, no redirects, 5 KiB,
 * JSON objects only, special-use addresses refused except through the development allow list.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ClientLookup, Registration } from 'oauth-dcr';
import { minimalDocument, skip, startDocumentServer, type DocumentServer } from './harness.js';

function assertRefused(lookup: ClientLookup, error: string, description: RegExp): void {
  assert.equal(lookup.kind, 'refused', JSON.stringify(lookup));
  assert.ok(lookup.kind === 'refused');
  assert.equal(lookup.error, error);
  assert.match(lookup.description, description);
}

describe('fetching a Client ID Metadata Document', { skip }, () => {
  let server: DocumentServer;
  let dcr: Registration;
  before(async () => {
    server = await startDocumentServer();
    dcr = server.registration();
  });
  after(() => server?.close());
  beforeEach(() => server.reset());

  const url = (path: string) => `${server.origin}${path}`;

  it('resolves a valid document into a metadata_document client', async () => {
    const clientId = url('/client.json');
    server.serve('/client.json', minimalDocument(clientId));
    const lookup = await dcr.lookupClient(clientId);
    assert.equal(lookup.kind, 'found');
    assert.ok(lookup.kind === 'found');
    assert.equal(lookup.client.clientId, clientId);
    assert.equal(lookup.client.registeredVia, 'metadata_document');
    assert.equal(lookup.client.clientSecretHash, undefined);
    assert.equal(lookup.client.metadata.token_endpoint_auth_method, 'none');
    assert.deepEqual(lookup.client.metadata.redirect_uris, ['http://127.0.0.1/callback']);
    assert.equal(await dcr.resolveClient(clientId), lookup.client);
  });

  it('asks for application/cimd+json, then application/json (pending draft change)', async () => {
    const clientId = url('/negotiated.json');
    server.serve('/negotiated.json', minimalDocument(clientId));
    await dcr.lookupClient(clientId);
    assert.equal(server.accept.get('/negotiated.json'), 'application/cimd+json, application/json');
  });

  for (const type of ['application/cimd+json', 'application/json; charset=utf-8', 'application/vnd.example+json']) {
    it(`accepts a ${type} response`, async () => {
      const clientId = url('/typed.json');
      server.serve('/typed.json', minimalDocument(clientId), { 'content-type': type });
      assert.equal((await dcr.lookupClient(clientId)).kind, 'found');
    });
  }

  describe('refuses, with invalid_client and no redirect to anything', () => {
    for (const status of [301, 302, 307, 308]) {
      it(`a ${status} redirect to a valid document (CIMD §4 MUST NOT follow)`, async () => {
        const clientId = url('/moved');
        server.serve('/real.json', minimalDocument(clientId));
        server.routes.set('/moved', { status, headers: { location: url('/real.json') } });
        assertRefused(await dcr.lookupClient(clientId), 'invalid_client', /redirects are not followed/);
        assert.equal(server.hitsOf('/real.json'), 0);
      });
    }

    for (const status of [404, 500, 201, 204]) {
      it(`an HTTP ${status}`, async () => {
        const clientId = url('/status');
        server.routes.set('/status', { status, body: minimalDocument(clientId) });
        assertRefused(await dcr.lookupClient(clientId), 'invalid_client', new RegExp(`${status}|expected 200`));
      });
    }

    it('a 200 with HTML', async () => {
      const clientId = url('/page');
      server.routes.set('/page', { body: '<html></html>', headers: { 'content-type': 'text/html' } });
      assertRefused(await dcr.lookupClient(clientId), 'invalid_client', /text\/html/);
    });

    it('a body that is not JSON', async () => {
      const clientId = url('/broken');
      server.routes.set('/broken', { body: '{"client_id": ' });
      assertRefused(await dcr.lookupClient(clientId), 'invalid_client', /not valid JSON/);
    });

    for (const [name, body] of [
      ['an array', '[]'],
      ['a string', '"https://x"'],
      ['null', 'null'],
    ] as const) {
      it(`JSON that is ${name}, not an object`, async () => {
        const clientId = url('/not-object');
        server.routes.set('/not-object', { body });
        assertRefused(await dcr.lookupClient(clientId), 'invalid_client', /must be a JSON object/);
      });
    }

    it('a 6 KiB body (CIMD §6.6: 5 KiB)', async () => {
      const clientId = url('/big');
      const document = minimalDocument(clientId, { padding: 'x'.repeat(6 * 1024) });
      // Sent chunked, so only the running count can stop it.
      server.routes.set('/big', { body: JSON.stringify(document), headers: { 'transfer-encoding': 'chunked' } });
      assertRefused(await dcr.lookupClient(clientId), 'invalid_client', /larger than 5120 bytes/);
    });

    it('a declared Content-Length of 10000, before the body is read', async () => {
      const clientId = url('/declared');
      // The header promises 10000 bytes and the server sends a few: only the header can be at fault.
      server.routes.set('/declared', { body: '{}', headers: { 'content-length': '10000' } });
      assertRefused(await dcr.lookupClient(clientId), 'invalid_client', /larger than 5120 bytes/);
    });

    it('a document at exactly 5 KiB is still fine', async () => {
      const clientId = url('/exact');
      const base = JSON.stringify(minimalDocument(clientId, { padding: '' }));
      const document = minimalDocument(clientId, { padding: 'x'.repeat(5120 - base.length) });
      assert.equal(JSON.stringify(document).length, 5120);
      server.serve('/exact', document);
      assert.equal((await dcr.lookupClient(clientId)).kind, 'found');
    });

    it('a server slower than timeoutMs', async () => {
      const quick = server.registration({ clientIdMetadataDocuments: { timeoutMs: 200 } });
      const clientId = url('/slow');
      server.routes.set('/slow', { body: minimalDocument(clientId), delayMs: 1000 });
      assertRefused(await quick.lookupClient(clientId), 'invalid_client', /within 200 ms/);
    });
  });

  describe('special-use addresses (CIMD §6.5)', () => {
    for (const host of ['loopback.test', 'private.test', 'metadata.test', 'v6-loopback.test', 'ula.test']) {
      it(`refuses ${host}, resolving to a non-public address, despite the allow list`, async () => {
        const clientId = `https://${host}:${server.port}/client.json`;
        server.serve('/client.json', minimalDocument(clientId));
        assertRefused(await dcr.lookupClient(clientId), 'invalid_client', /non-public address/);
        assert.equal(server.hitsOf('/client.json'), 0);
      });
    }

    it('refuses the address literal of the allowed name', async () => {
      const clientId = `https://127.0.0.1:${server.port}/client.json`;
      server.serve('/client.json', minimalDocument(clientId));
      assertRefused(await dcr.lookupClient(clientId), 'invalid_client', /non-public address/);
    });

    it('reaches localhost only while it is on the development allow list', async () => {
      const clientId = url('/dev-only.json');
      server.serve('/dev-only.json', minimalDocument(clientId));
      // Production settings: no allow list (and the system resolver, which says 127.0.0.1 too).
      const production = server.registration({ outboundFetch: {} });
      assertRefused(await production.lookupClient(clientId), 'invalid_client', /non-public address/);
      assert.equal(server.hitsOf('/dev-only.json'), 0);
      assert.equal((await dcr.lookupClient(clientId)).kind, 'found');
    });
  });
});

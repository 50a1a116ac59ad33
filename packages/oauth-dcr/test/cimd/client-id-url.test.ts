/**
 * CIMD §3: which client_id URLs name a document. A refused URL causes no network traffic at all:
 * neither a DNS question nor a request.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Registration } from 'oauth-dcr';
import { minimalDocument, skip, startDocumentServer, type DocumentServer } from './harness.js';

describe('client_id URL rules (CIMD §3)', { skip }, () => {
  let server: DocumentServer;
  let dcr: Registration;
  before(async () => {
    server = await startDocumentServer();
    dcr = server.registration();
  });
  after(() => server?.close());
  beforeEach(() => server.reset());

  /** Refused before any traffic: invalid_client, nothing resolved, nothing requested. */
  async function assertRefusedOffline(clientId: string, registration = dcr): Promise<string> {
    const lookup = await registration.lookupClient(clientId);
    assert.equal(lookup.kind, 'refused', clientId);
    assert.ok(lookup.kind === 'refused');
    assert.equal(lookup.error, 'invalid_client', clientId);
    assert.deepEqual(server.resolved, [], `${clientId} must not be resolved`);
    assert.equal(
      [...server.hits.values()].reduce((a, b) => a + b, 0),
      0,
      `${clientId} must not be fetched`,
    );
    return lookup.description;
  }

  const refused: Array<[string, (origin: string) => string, RegExp]> = [
    ['a path of "/" only', () => 'https://a.example/', /path/],
    ['no path at all', () => 'https://a.example', /path/],
    ['an empty fragment', () => 'https://a.example/c#', /fragment/],
    ['a fragment', () => 'https://a.example/c#x', /fragment/],
    ['user information', () => 'https://u@a.example/c', /user information/],
    ['an empty user information', () => 'https://@a.example/c', /user information/],
    ['user and password', () => 'https://u:p@a.example/c', /user information/],
    ['a "." segment', () => 'https://a.example/./c', /segments/],
    ['a ".." segment', () => 'https://a.example/b/../c', /segments/],
    ['a percent-encoded ".." segment', () => 'https://a.example/%2e%2e/c', /segments/],
    ['a mixed-case encoded "." segment', () => 'https://a.example/%2E/c', /segments/],
    ['a half-encoded ".." segment', () => 'https://a.example/.%2e/c', /segments/],
    ['https without "//"', () => 'https:a.example/c', /https/],
    ['a leading space', () => ' https://a.example/c', /whitespace/],
    ['a trailing space', () => 'https://a.example/c ', /whitespace/],
    ['a tab inside', () => 'https://a.example/c\td', /whitespace/],
    ['a backslash', () => 'https://a.example\\c', /backslash/],
    ['a query (not allowed by default)', () => 'https://a.example/c?x=1', /query/],
    ['an empty query', () => 'https://a.example/c?', /query/],
    ['an over-long URL', () => `https://a.example/${'c'.repeat(2048)}`, /longer than 2048/],
  ];
  for (const [name, url, reason] of refused) {
    it(`refuses ${name}`, async () => {
      assert.match(await assertRefusedOffline(url(server.origin)), reason);
    });
  }

  it('leaves http:// and other ids to the store: unknown, not a document', async () => {
    for (const clientId of ['http://a.example/c', 'a1b2c3', 'ftp://a.example/c']) {
      assert.deepEqual(await dcr.lookupClient(clientId), { kind: 'unknown' }, clientId);
    }
    assert.deepEqual(server.resolved, []);
  });

  it('compares the scheme case-insensitively', async () => {
    const clientId = `HTTPS://localhost:${server.port}/c`;
    server.serve('/c', minimalDocument(clientId));
    const lookup = await dcr.lookupClient(clientId);
    assert.equal(lookup.kind, 'found', JSON.stringify(lookup));
  });

  it('accepts a plain https URL with a path: it goes on to resolve the host', async () => {
    const lookup = await dcr.lookupClient('https://a.example/c');
    // a.example is not in the test resolver: the look-up fails at DNS, after the URL passed.
    assert.equal(lookup.kind, 'refused');
    assert.deepEqual(server.resolved, ['a.example']);
  });

  it('accepts a port', async () => {
    const clientId = `${server.origin}/oauth/client.json`;
    server.serve('/oauth/client.json', minimalDocument(clientId));
    assert.equal((await dcr.lookupClient(clientId)).kind, 'found');
  });

  it('accepts a query once allowQuery is on', async () => {
    const clientId = `${server.origin}/c?tenant=1`;
    server.serve('/c?tenant=1', minimalDocument(clientId));
    await assertRefusedOffline(clientId);
    const withQuery = server.registration({ clientIdMetadataDocuments: { allowQuery: true } });
    assert.equal((await withQuery.lookupClient(clientId)).kind, 'found');
  });

  it('honours maxUrlLength', async () => {
    const short = server.registration({ clientIdMetadataDocuments: { maxUrlLength: 30 } });
    assert.match(await assertRefusedOffline(`${server.origin}/a-rather-long-path`, short), /longer than 30/);
  });
});

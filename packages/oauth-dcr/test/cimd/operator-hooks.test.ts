/**
 * The operator's hooks (CIMD §6.8): allowFetch before any traffic, allowClient on every use.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { found, refusedWith, minimalDocument, skip, startDocumentServer, type DocumentServer } from './harness.js';

describe('operator hooks (CIMD §6.8)', { skip }, () => {
  let server: DocumentServer;
  before(async () => {
    server = await startDocumentServer();
  });
  after(() => server?.close());
  beforeEach(() => server.reset());

  describe('allowFetch and allowClient', () => {
    it('allowFetch refuses before any request, with "client not allowed"', async () => {
      const asked: string[] = [];
      const guarded = server.registration({
        clientIdMetadataDocuments: {
          allowFetch: (url) => {
            asked.push(url.href);
            return url.pathname.startsWith('/trusted/');
          },
        },
      });
      const clientId = `${server.origin}/untrusted.json`;
      server.serve('/untrusted.json', minimalDocument(clientId));
      refusedWith(await guarded.lookupClient(clientId), 'invalid_client', /client not allowed/);
      assert.equal(server.hitsOf('/untrusted.json'), 0);
      assert.deepEqual(asked, [clientId]);

      const trusted = `${server.origin}/trusted/client.json`;
      server.serve('/trusted/client.json', minimalDocument(trusted));
      found(await guarded.lookupClient(trusted));
    });

    it('allowClient is asked on every use, cache hits included', async () => {
      let allow = true;
      const seen: string[] = [];
      const guarded = server.registration({
        clientIdMetadataDocuments: {
          allowClient: async (client, url) => {
            seen.push(`${client.clientId} ${url.host}`);
            return allow;
          },
        },
      });
      const clientId = `${server.origin}/policy.json`;
      server.serve('/policy.json', minimalDocument(clientId));
      found(await guarded.lookupClient(clientId));
      allow = false;
      refusedWith(await guarded.lookupClient(clientId), 'invalid_client', /client not allowed/);
      allow = true;
      found(await guarded.lookupClient(clientId));
      assert.equal(server.hitsOf('/policy.json'), 1, 'one fetch: the document stayed cached');
      assert.equal(seen.length, 3);
      assert.equal(seen[0], `${clientId} localhost:${server.port}`);
    });
  });

  it('a hook that throws refuses the client and is reported to onError', async () => {
    const errors: unknown[] = [];
    const failing = server.registration({
      onError: (error) => errors.push(error),
      clientIdMetadataDocuments: {
        allowFetch: () => {
          throw new Error('rate limiter unavailable');
        },
      },
    });
    const clientId = `${server.origin}/hook-fails.json`;
    server.serve('/hook-fails.json', minimalDocument(clientId));
    refusedWith(await failing.lookupClient(clientId), 'invalid_client', /client not allowed/);
    assert.equal(server.hitsOf('/hook-fails.json'), 0);
    assert.equal((errors[0] as Error).message, 'rate limiter unavailable');
  });
});

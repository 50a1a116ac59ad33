import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * A browser-based attested client sends the attestation headers cross-origin (draft
 * -ietf-oauth-attestation-based-client-auth §5.1) and must be able to read a fresh challenge
 * from any answer (§6.2): the preflight allows the headers, and answers expose the challenge.
 */
describe('attestation headers across origins', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ store: 'memory' });
  });
  after(() => server?.stop());

  for (const path of ['/token', '/revoke', '/introspect']) {
    it(`the ${path} preflight allows OAuth-Client-Attestation and OAuth-Client-Attestation-PoP`, async () => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'oauth-client-attestation, oauth-client-attestation-pop',
        },
      });
      assert.equal(response.status, 204);
      const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
      assert.ok(allowed.includes('oauth-client-attestation'), `allowed: ${allowed.join(', ')}`);
      assert.ok(allowed.includes('oauth-client-attestation-pop'), `allowed: ${allowed.join(', ')}`);
    });
  }

  it('a token answer lets a script read OAuth-Client-Attestation-Challenge', async () => {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { origin: 'https://app.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    await response.arrayBuffer();
    const exposed = (response.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    assert.match(exposed, /oauth-client-attestation-challenge/);
  });
});

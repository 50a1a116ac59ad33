import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashSecret } from 'oauth-dcr';
import {
  authorizationUrl,
  BrowserlessUser,
  obtainTokens,
  pkcePair,
  registerClient,
  tokenRequest,
} from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * RFC 7592 §2.3: once a client is deprovisioned, nothing it was given may keep working: access
 * and refresh tokens, codes not yet exchanged, and new authorization requests. Run on SQLite and
 * on memory (DCR_STORE=memory), since both keep tokens.
 */
for (const store of ['sqlite', 'memory'] as const) {
  describe(`a deleted client loses its tokens and codes (${store})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ store });
    });
    after(() => server.stop());

    it('stops tokens, refresh, pending codes and new authorizations after DELETE', async () => {
      const redirect = 'http://127.0.0.1:6001/cb';
      const client = await registerClient(server.url, {
        redirect_uris: [redirect],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
      });
      const { tokens } = await obtainTokens(server.url, client);
      const pkce = pkcePair();
      const pending = await new BrowserlessUser().authorize(
        authorizationUrl(server.url, {
          client_id: client.client_id,
          redirect_uri: redirect,
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        }),
      );
      const code = pending.searchParams.get('code')!;
      const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
      assert.equal((await fetch(`${server.url}/userinfo`, bearer(tokens.access_token))).status, 200);

      const deleted = await fetch(client.registration_client_uri, {
        method: 'DELETE',
        ...bearer(client.registration_access_token),
      });
      assert.equal(deleted.status, 204);

      const userinfo = await fetch(`${server.url}/userinfo`, bearer(tokens.access_token));
      assert.equal(userinfo.status, 401);
      const refresh = await tokenRequest(server.url, {
        grant_type: 'refresh_token',
        client_id: client.client_id,
        refresh_token: tokens.refresh_token,
      });
      assert.equal(refresh.status, 401);
      assert.equal(refresh.body.error, 'invalid_client');
      const exchange = await tokenRequest(server.url, {
        grant_type: 'authorization_code',
        client_id: client.client_id,
        code,
        code_verifier: pkce.verifier,
        redirect_uri: redirect,
      });
      assert.equal(exchange.body.error, 'invalid_client');
      const authorize = await fetch(
        authorizationUrl(server.url, {
          client_id: client.client_id,
          redirect_uri: redirect,
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        }),
        { redirect: 'manual' },
      );
      assert.equal(authorize.status, 400);
      assert.equal(authorize.headers.get('location'), null);

      // The rows are revoked too, not only unreachable through the missing client.
      for (let attempt = 0; attempt < 50; attempt++) {
        const stored = await server.storage.tokens.findToken(hashSecret(tokens.access_token));
        if (stored?.revokedAt !== undefined) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.fail("the deleted client's access token row was not revoked");
    });
  });
}

/**
 * RFC 7592 §2.3: a deprovisioned client's credentials stop working, and so does everything it
 * was given. The reference server revokes a deleted or disabled client's access tokens, refresh
 * tokens and pending codes (client-lifecycle.ts), on memory, SQLite and PostgreSQL.
 *
 * While the client is gone, every look-up through the client already refuses its tokens, which
 * hides a revocation that missed some of them. Two things show it:
 * - the rows themselves: every token row revoked and every pending code gone;
 * - a client an operator disables and enables again: nothing issued before the disable comes back
 *   (access token, refresh token, pending code), which HTTP and introspection see.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashSecret } from 'oauth-dcr';
import { registerClient, tokenRequest } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';
import { authorizeCode, durableBackends, exchangeCode, refresh } from './grant-flow.js';

const REDIRECT = 'http://127.0.0.1:7103/cb';

const backends = [
  { name: 'memory', store: 'memory' as const, env: {}, cleanup: async () => undefined },
  ...durableBackends('ref_planted_removal'),
];

/** Waits for the revocation that follows a removal event (it runs after the answer). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(what);
}

for (const backend of backends) {
  describe(`a removed client keeps nothing it was given (${backend.name})`, () => {
    let server: TestServer;
    let introspector: { id: string; secret: string };
    before(async () => {
      server = await startTestServer({ store: backend.store, env: backend.env });
      const created = await server.registration.operator.create({
        metadata: {
          redirect_uris: ['https://rs.example.com/cb'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        rights: ['introspection'],
      });
      introspector = {
        id: created.client.clientId,
        secret: created.information.client_secret as string,
      };
    });
    after(async () => {
      await server?.stop();
      await backend.cleanup();
    });

    /** A client with a live access token, a live refresh token and a code not yet exchanged. */
    async function clientWithEverything() {
      const client = await registerClient(server.url, {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
      });
      const tokens = await exchangeCode(
        server.url,
        client.client_id,
        await authorizeCode(server.url, client.client_id, REDIRECT),
        REDIRECT,
      );
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      const pending = await authorizeCode(server.url, client.client_id, REDIRECT);
      return {
        client,
        accessToken: tokens.body.access_token as string,
        refreshToken: tokens.body.refresh_token as string,
        pending,
      };
    }

    const introspect = async (token: string) => (await tokenRequestAt('/introspect', { token }, introspector)).body;

    async function tokenRequestAt(path: string, params: Record<string, string>, basic: { id: string; secret: string }) {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${basic.id}:${basic.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams(params),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    }

    async function assertRowsRevoked(given: Awaited<ReturnType<typeof clientWithEverything>>): Promise<void> {
      const tokens = server.storage.tokens;
      await eventually(
        async () => (await tokens.findToken(hashSecret(given.accessToken)))?.revokedAt !== undefined,
        "the access token's row was not revoked",
      );
      const refreshRow = await tokens.findToken(hashSecret(given.refreshToken));
      assert.ok(refreshRow, 'the refresh token row is kept (revoked), for replay detection');
      assert.notEqual(refreshRow.revokedAt, undefined, "the refresh token's row must be revoked");
      const code = await tokens.findAuthorizationCode(hashSecret(given.pending.code));
      assert.ok(code === null || code.usedAt !== undefined, 'the pending code must be gone or spent');
    }

    it('RFC 7592 DELETE revokes access and refresh token rows and drops pending codes', async () => {
      const given = await clientWithEverything();
      assert.equal((await introspect(given.accessToken)).active, true);
      const deleted = await fetch(given.client.registration_client_uri, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${given.client.registration_access_token}` },
      });
      assert.equal(deleted.status, 204);
      await assertRowsRevoked(given);
      assert.deepEqual(await introspect(given.accessToken), { active: false });
    });

    it('an operator delete revokes them the same way', async () => {
      const given = await clientWithEverything();
      assert.equal(await server.registration.operator.delete(given.client.client_id), true);
      await assertRowsRevoked(given);
      assert.deepEqual(await introspect(given.accessToken), { active: false });
    });

    it('disabled then enabled again: the old access token, refresh token and pending code stay dead', async () => {
      const given = await clientWithEverything();
      const clientId: string = given.client.client_id;
      assert.equal(await server.registration.operator.disable(clientId), true);
      // The revocation has run once the access token's row is revoked (one pass per client).
      await eventually(
        async () => (await server.storage.tokens.findToken(hashSecret(given.accessToken)))?.revokedAt !== undefined,
        "the access token's row was not revoked",
      );
      assert.equal(await server.registration.operator.enable(clientId), true);

      assert.deepEqual(await introspect(given.accessToken), { active: false });
      const userinfo = await fetch(`${server.url}/userinfo`, {
        headers: { authorization: `Bearer ${given.accessToken}` },
      });
      assert.equal(userinfo.status, 401);
      await userinfo.arrayBuffer();

      const refreshed = await refresh(server.url, clientId, given.refreshToken);
      assert.equal(refreshed.status, 400, `the old refresh token must stay dead: ${JSON.stringify(refreshed.body)}`);
      assert.equal(refreshed.body.error, 'invalid_grant');
      const exchanged = await exchangeCode(server.url, clientId, given.pending, REDIRECT);
      assert.equal(exchanged.status, 400, `the pending code must stay dead: ${JSON.stringify(exchanged.body)}`);
      assert.equal(exchanged.body.error, 'invalid_grant');

      await assertRowsRevoked(given);

      // The client itself works again: a new authorization gets new tokens.
      const fresh = await exchangeCode(
        server.url,
        clientId,
        await authorizeCode(server.url, clientId, REDIRECT),
        REDIRECT,
      );
      assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
      assert.equal(
        (
          await tokenRequest(server.url, {
            grant_type: 'refresh_token',
            client_id: clientId,
            refresh_token: fresh.body.refresh_token,
          })
        ).status,
        200,
      );
    });
  });
}

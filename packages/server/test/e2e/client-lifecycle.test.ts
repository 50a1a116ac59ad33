import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRegistration, hashSecret } from 'oauth-dcr';
import { BrowserlessUser } from '../support/oauth-flow.js';
import {
  authorizeFor,
  type Client,
  exchangeCode,
  introspect,
  refresh,
  registerPublicClient,
  resourceAuthorizationUrl,
} from '../support/resource-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * A client taken out of service (disabled or deleted by an operator) is refused at /authorize,
 * /token (code and refresh), /revoke, /introspect and /userinfo, whether the server did it
 * itself (its tokens and codes are then revoked at once) or another process changed the shared
 * database (the CLI: every look-up goes through the library, which refuses a disabled client).
 */

interface Holdings {
  client: Client;
  accessToken: string;
  refreshToken: string;
  /** A code issued and never exchanged. */
  pending: { back: URL; verifier: string };
}

describe('a client taken out of service', () => {
  let server: TestServer;
  /** Created by an operator with the introspection right (no DCR_INTROSPECTION_CLIENTS). */
  let introspector: { id: string; secret: string };

  before(async () => {
    server = await startTestServer();
    const created = await server.registration.operator.create({
      metadata: {
        client_name: 'Resource server',
        redirect_uris: ['https://rs.example/unused'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      rights: ['introspection'],
      actor: 'test',
    });
    introspector = { id: String(created.information.client_id), secret: String(created.information.client_secret) };
  });
  after(() => server?.stop());

  async function holdings(): Promise<Holdings> {
    const client = await registerPublicClient(server.url);
    const { back, verifier } = await authorizeFor(server.url, client);
    const tokens = await exchangeCode(server.url, client, back, verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const pending = await authorizeFor(server.url, client);
    return {
      client,
      accessToken: tokens.body.access_token,
      refreshToken: tokens.body.refresh_token,
      pending,
    };
  }

  async function assertRefusedEverywhere(held: Holdings): Promise<void> {
    const { client } = held;
    const page = await new BrowserlessUser().get(resourceAuthorizationUrl(server.url, client, 'x'.repeat(43)).href);
    const html = await page.text();
    assert.equal(page.status, 400, `/authorize: ${html.match(/<title>(.*)<\/title>/)?.[1]}`);
    const exchanged = await exchangeCode(server.url, client, held.pending.back, held.pending.verifier);
    assert.equal(exchanged.body.error, 'invalid_client', `/token code: ${JSON.stringify(exchanged.body)}`);
    const refreshed = await refresh(server.url, client, held.refreshToken);
    assert.equal(refreshed.body.error, 'invalid_client', `/token refresh: ${JSON.stringify(refreshed.body)}`);
    const revoked = await fetch(`${server.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: held.accessToken, client_id: client.client_id }),
    });
    assert.equal(revoked.status, 401, '/revoke');
    const seen = await introspect(server.url, held.accessToken, introspector);
    assert.deepEqual(seen.body, { active: false }, '/introspect');
    const userinfo = await fetch(`${server.url}/userinfo`, {
      headers: { authorization: `Bearer ${held.accessToken}` },
    });
    assert.equal(userinfo.status, 401, '/userinfo');
  }

  async function revokedInStorage(token: string): Promise<boolean> {
    // The revocation follows the event without holding the operator's answer back.
    for (let i = 0; i < 50; i++) {
      if ((await server.storage.tokens.findToken(hashSecret(token)))?.revokedAt !== undefined) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }

  it('an operator-granted introspection right lets a client introspect a live token', async () => {
    const held = await holdings();
    const seen = await introspect(server.url, held.accessToken, introspector);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.active, true);
    assert.equal(seen.body.client_id, held.client.client_id);
  });

  it('disabled by the operator here: refused everywhere, its tokens revoked', async () => {
    const held = await holdings();
    assert.equal(await server.registration.operator.disable(held.client.client_id, 'test'), true);
    assert.ok(await revokedInStorage(held.accessToken), 'access token revoked');
    assert.ok(await revokedInStorage(held.refreshToken), 'refresh token revoked');
    await assertRefusedEverywhere(held);
  });

  it('deleted by the operator here: refused everywhere, its tokens revoked', async () => {
    const held = await holdings();
    assert.equal(await server.registration.operator.delete(held.client.client_id, 'test'), true);
    assert.ok(await revokedInStorage(held.refreshToken), 'refresh token revoked');
    await assertRefusedEverywhere(held);
  });

  it('disabled by another process (the shared database changed, no event here): refused everywhere', async () => {
    const held = await holdings();
    assert.equal(
      await server.storage.clients.setClientDisabled(held.client.client_id, Math.floor(Date.now() / 1000)),
      true,
    );
    await assertRefusedEverywhere(held);
  });

  it('disabled by another process through the library (an audit event): its tokens are revoked here too, and stay revoked once enabled', async () => {
    const held = await holdings();
    // What `npx oauth-dcr clients disable` does: the library on the same database, none of this server's hooks.
    const elsewhere = createRegistration({
      store: server.storage.clients,
      persistAuditEvents: true,
      onError: () => {},
    });
    assert.equal(await elsewhere.operator.disable(held.client.client_id, 'cli'), true);
    let revoked = false;
    for (let i = 0; i < 50 && !revoked; i++) {
      await server.followClientEvents();
      revoked = (await server.storage.tokens.findToken(hashSecret(held.refreshToken)))?.revokedAt !== undefined;
      if (!revoked) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(revoked, 'refresh token revoked');
    assert.equal(await elsewhere.operator.enable(held.client.client_id, 'cli'), true);
    const refreshed = await refresh(server.url, held.client, held.refreshToken);
    assert.equal(refreshed.body.error, 'invalid_grant', JSON.stringify(refreshed.body));
  });
});

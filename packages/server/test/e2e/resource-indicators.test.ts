/**
 * RFC 8707 resource indicators end to end, through the real server over HTTP (checklist
 * mcp-authorization.md tests 2-6 and 13): what /authorize accepts, how the granted resources
 * bind the code, which audience each access token gets, and how a refresh may narrow but never
 * widen. RFC 9207 `iss` on every authorization response rides along.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { BrowserlessUser, pkcePair } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';
import {
  authorizeFor,
  exchangeCode,
  refresh,
  registerPublicClient,
  resourceAuthorizationUrl,
  type Client,
} from '../support/resource-flow.js';

const A = 'https://mcp.example/mcp';
const B = 'https://tools.example/';
const C = 'https://elsewhere.example/mcp';

function assertNoStoreJson(response: { headers: Headers }): void {
  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
}

describe('resource indicators with DCR_RESOURCES (strict) and a default resource', () => {
  let server: TestServer;
  let client: Client;
  before(async () => {
    server = await startTestServer({ env: { DCR_RESOURCES: `${A},${B}`, DCR_DEFAULT_RESOURCE: A } });
    client = await registerPublicClient(server.url);
  });
  after(() => server.stop());

  it('refuses a resource with a fragment, or one not listed, with invalid_target and iss (RFC 8707 §2, RFC 9207)', async () => {
    for (const resource of [`${A}#x`, C, 'not a uri', 'mcp.example/mcp']) {
      const { back } = await authorizeFor(server.url, client, { resources: [resource] });
      assert.equal(back.origin + back.pathname, 'http://127.0.0.1:9999/cb', resource);
      assert.equal(back.searchParams.get('error'), 'invalid_target', resource);
      assert.equal(back.searchParams.get('iss'), server.url);
      assert.equal(back.searchParams.get('state'), 'state-r');
      assert.equal(back.searchParams.get('code'), null);
    }
  });

  it('matches after normalisation and keeps the configured spelling: HTTPS://MCP.EXAMPLE/mcp is A', async () => {
    const { back, verifier } = await authorizeFor(server.url, client, { resources: ['HTTPS://MCP.EXAMPLE:443/mcp'] });
    assert.equal(back.searchParams.get('iss'), server.url);
    const token = await exchangeCode(server.url, client, back, verifier);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal(decodeJwt(token.body.access_token).aud, A);
  });

  it('without resource, the default resource is the audience (checklist 9)', async () => {
    const { back, verifier } = await authorizeFor(server.url, client);
    const token = await exchangeCode(server.url, client, back, verifier);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal(decodeJwt(token.body.access_token).aud, A);
  });

  it('a code for A and B: C is invalid_target, none chosen is invalid_target, A gives aud A (RFC 8707 §2.2)', async () => {
    const { back, verifier } = await authorizeFor(server.url, client, { resources: [A, B] });
    const wrong = await exchangeCode(server.url, client, back, verifier, C);
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_target');
    assertNoStoreJson(wrong);
    const unchosen = await exchangeCode(server.url, client, back, verifier);
    assert.equal(unchosen.status, 400);
    assert.equal(unchosen.body.error, 'invalid_target');
    // A refused resource spends nothing: the code still works for a granted one.
    const good = await exchangeCode(server.url, client, back, verifier, A);
    assert.equal(good.status, 200, JSON.stringify(good.body));
    assertNoStoreJson(good);
    assert.equal(good.body.token_type, 'Bearer');
    assert.equal(typeof good.body.expires_in, 'number');
    assert.equal(decodeJwt(good.body.access_token).aud, A);
  });

  it('refresh narrows to B, never widens to C; rotation; a replayed refresh token revokes the family', async () => {
    const { back, verifier } = await authorizeFor(server.url, client, { resources: [A, B] });
    const first = await exchangeCode(server.url, client, back, verifier, A);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const firstRefresh: string = first.body.refresh_token;
    assert.ok(firstRefresh, 'a public client with the refresh_token grant gets a refresh token');

    const widened = await refresh(server.url, client, firstRefresh, C);
    assert.equal(widened.status, 400);
    assert.equal(widened.body.error, 'invalid_target');
    assertNoStoreJson(widened);

    const narrowed = await refresh(server.url, client, firstRefresh, B);
    assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
    assert.equal(decodeJwt(narrowed.body.access_token).aud, B);
    assert.ok(narrowed.body.refresh_token && narrowed.body.refresh_token !== firstRefresh, 'rotated');

    // The grant still covers A: the rotated refresh token may go back to it.
    const backToA = await refresh(server.url, client, narrowed.body.refresh_token, A);
    assert.equal(backToA.status, 200, JSON.stringify(backToA.body));
    assert.equal(decodeJwt(backToA.body.access_token).aud, A);

    const replay = await refresh(server.url, client, firstRefresh, A);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    const family = await refresh(server.url, client, backToA.body.refresh_token, A);
    assert.equal(family.body.error, 'invalid_grant', 'the whole family was revoked');
  });

  it('refuses two resources in one token request (one audience per token)', async () => {
    const { back, verifier } = await authorizeFor(server.url, client, { resources: [A, B] });
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `${new URLSearchParams({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: 'http://127.0.0.1:9999/cb',
        client_id: client.client_id,
      })}&resource=${encodeURIComponent(A)}&resource=${encodeURIComponent(B)}`,
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_target');
  });

  it('keeps several resources through the login form (carried, then validated again)', async () => {
    // A fresh browser: the login page carries the request, including both resources.
    const { verifier, challenge } = pkcePair();
    const user = new BrowserlessUser();
    const back = await user.authorize(resourceAuthorizationUrl(server.url, client, challenge, { resources: [A, B] }));
    assert.ok(user.pages.some((page) => page.html.includes('name="resource"')));
    const forB = await exchangeCode(server.url, client, back, verifier, B);
    assert.equal(forB.status, 200, JSON.stringify(forB.body));
    assert.equal(decodeJwt(forB.body.access_token).aud, B);
  });
});

describe('resource indicators without DCR_RESOURCES (open) and without a default', () => {
  let server: TestServer;
  let client: Client;
  before(async () => {
    server = await startTestServer({ env: { DCR_SCOPES: 'read,offline_access' } });
    client = await registerPublicClient(server.url);
  });
  after(() => server.stop());

  it('accepts any https resource and http on loopback; refuses plain http elsewhere', async () => {
    for (const resource of ['https://any.example/mcp', 'http://127.0.0.1:8123/mcp', 'http://localhost:8123/']) {
      const { back, verifier } = await authorizeFor(server.url, client, { resources: [resource] });
      assert.ok(back.searchParams.get('code'), `${resource}: ${back.href}`);
      const token = await exchangeCode(server.url, client, back, verifier);
      assert.equal(decodeJwt(token.body.access_token).aud, new URL(resource).href);
    }
    const { back } = await authorizeFor(server.url, client, { resources: ['http://mcp.example/mcp'] });
    assert.equal(back.searchParams.get('error'), 'invalid_target');
  });

  it('without resource, issues an opaque token with no resource audience, good only at /userinfo', async () => {
    const { back, verifier } = await authorizeFor(server.url, client);
    const token = await exchangeCode(server.url, client, back, verifier);
    assert.equal(token.status, 200);
    assert.equal(token.body.access_token.split('.').length, 1, 'not a JWT: no resource server can accept it');
    const userinfo = await fetch(`${server.url}/userinfo`, {
      headers: { authorization: `Bearer ${token.body.access_token}` },
    });
    assert.equal(userinfo.status, 200);
  });

  it('a token for an MCP server is refused at /userinfo; one for this server (its PRM resource) is accepted', async () => {
    for (const [resource, status] of [
      ['https://any.example/mcp', 401],
      [`${server.url}/`, 200],
    ] as const) {
      const { back, verifier } = await authorizeFor(server.url, client, { resources: [resource] });
      const token = await exchangeCode(server.url, client, back, verifier);
      const userinfo = await fetch(`${server.url}/userinfo`, {
        headers: { authorization: `Bearer ${token.body.access_token}` },
      });
      assert.equal(userinfo.status, status, resource);
    }
  });

  it('offline_access decides refresh issuance when listed; prompt=consent is accepted', async () => {
    const without = await authorizeFor(server.url, client, { scope: 'read' });
    const noRefresh = await exchangeCode(server.url, client, without.back, without.verifier);
    assert.equal(noRefresh.status, 200);
    assert.equal(noRefresh.body.refresh_token, undefined);
    const withOffline = await authorizeFor(server.url, client, {
      scope: 'read offline_access',
      extra: { prompt: 'consent' },
    });
    const withRefresh = await exchangeCode(server.url, client, withOffline.back, withOffline.verifier);
    assert.equal(withRefresh.status, 200, JSON.stringify(withRefresh.body));
    assert.ok(withRefresh.body.refresh_token);
  });

  it('every authorization response carries iss: success and access_denied (RFC 9207 §2)', async () => {
    const approved = await authorizeFor(server.url, client);
    assert.ok(approved.back.searchParams.get('code'));
    assert.equal(approved.back.searchParams.get('iss'), server.url);
    const denied = await authorizeFor(server.url, client, { decision: 'deny' });
    assert.equal(denied.back.searchParams.get('error'), 'access_denied');
    assert.equal(denied.back.searchParams.get('iss'), server.url);
  });

  it('without PKCE, or with plain, the request is refused on a page, never redirected (checklist 2)', async () => {
    const { challenge } = pkcePair();
    for (const change of [{ code_challenge: '' }, { code_challenge_method: 'plain' }]) {
      const url = resourceAuthorizationUrl(server.url, client, challenge);
      for (const [name, value] of Object.entries(change)) url.searchParams.set(name, value);
      const response = await fetch(url, { redirect: 'manual' });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('location'), null);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    }
  });
});

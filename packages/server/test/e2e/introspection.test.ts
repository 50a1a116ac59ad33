/**
 * RFC 7662 introspection through the real server (checklist test 8), and the RFC 8414 metadata
 * that announces it (checklist test 1): only a client the operator listed in
 * DCR_INTROSPECTION_CLIENTS may ask; anything it may not see is exactly {"active": false}.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { registerClient, tokenRequest } from '../support/oauth-flow.js';
import {
  authorizeFor,
  exchangeCode,
  introspect,
  registerPublicClient,
  startWithIntrospector,
  type Client,
  type IntrospectingServer,
} from '../support/resource-flow.js';

const A = 'https://mcp.example/mcp';
const B = 'https://tools.example/mcp';

async function tokenFor(baseUrl: string, client: Client, resource?: string): Promise<Record<string, any>> {
  const { back, verifier } = await authorizeFor(baseUrl, client, resource ? { resources: [resource] } : {});
  const token = await exchangeCode(baseUrl, client, back, verifier);
  assert.equal(token.status, 200, JSON.stringify(token.body));
  return token.body;
}

describe('introspection for a listed client (every token)', () => {
  let running: IntrospectingServer;
  let url: string;
  let caller: { id: string; secret: string };
  let client: Client;
  before(async () => {
    running = await startWithIntrospector();
    url = running.server.url;
    caller = { id: running.introspector.client_id, secret: running.introspector.client_secret };
    client = await registerPublicClient(url);
  });
  after(() => running.stop());

  it('metadata announces introspection, jwks_uri, iss support and S256 (checklist 1)', async () => {
    const response = await fetch(`${url}/.well-known/oauth-authorization-server`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    const metadata = (await response.json()) as Record<string, any>;
    assert.equal(metadata.issuer, url);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.ok(metadata.token_endpoint_auth_methods_supported.includes('none'));
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.equal(metadata.jwks_uri, `${url}/jwks`);
    assert.equal(metadata.introspection_endpoint, `${url}/introspect`);
    assert.ok(metadata.introspection_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.ok(!metadata.introspection_endpoint_auth_methods_supported.includes('none'));
  });

  it('refuses callers that are not authenticated, public, or not listed with 401 invalid_client', async () => {
    const token = (await tokenFor(url, client, A)).access_token;
    const anonymous = await introspect(url, token);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error, 'invalid_client');
    const wrongSecret = await introspect(url, token, { id: caller.id, secret: 'not-the-secret' });
    assert.equal(wrongSecret.status, 401);
    const publicClient = await fetch(`${url}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: client.client_id }),
    });
    assert.equal(publicClient.status, 401);
    const selfRegistered = await registerClient(url, {
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const notListed = await introspect(url, token, {
      id: selfRegistered.client_id,
      secret: selfRegistered.client_secret,
    });
    assert.equal(notListed.status, 401);
    assert.equal(notListed.body.error, 'invalid_client');
    assert.equal(notListed.body.active, undefined, 'nothing about the token leaks');
  });

  it('describes an active token (exp and aud included), then exactly {active:false} once revoked', async () => {
    const issued = await tokenFor(url, client, A);
    const active = await introspect(url, issued.access_token, caller);
    assert.equal(active.status, 200);
    assert.equal(active.headers.get('cache-control'), 'no-store');
    assert.equal(active.body.active, true);
    assert.equal(active.body.client_id, client.client_id);
    assert.equal(active.body.aud, A);
    assert.equal(active.body.iss, url);
    assert.equal(active.body.token_type, 'Bearer');
    assert.equal(typeof active.body.exp, 'number');
    assert.equal(typeof active.body.iat, 'number');
    assert.equal(typeof active.body.sub, 'string');

    const revoked = await fetch(`${url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: issued.access_token, client_id: client.client_id }),
    });
    assert.equal(revoked.status, 200);
    assert.deepEqual((await introspect(url, issued.access_token, caller)).body, { active: false });
  });

  it("answers exactly {active:false} for garbage and for another client's refresh token", async () => {
    assert.deepEqual((await introspect(url, 'garbage', caller)).body, { active: false });
    const issued = await tokenFor(url, client, A);
    assert.ok(issued.refresh_token);
    assert.deepEqual((await introspect(url, issued.refresh_token, caller)).body, { active: false });
  });
});

describe('introspection limited to resources, and expiry', () => {
  let running: IntrospectingServer;
  let url: string;
  let caller: { id: string; secret: string };
  before(async () => {
    running = await startWithIntrospector(
      { DCR_ACCESS_TOKEN_TTL: '5', DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials' },
      (id) => `${id}=${A}`,
    );
    url = running.server.url;
    caller = { id: running.introspector.client_id, secret: running.introspector.client_secret };
  });
  after(() => running.stop());

  it('sees tokens for its resource only; a token for another resource, or none, is {active:false}', async () => {
    const service = await registerClient(url, {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const basic = { id: service.client_id, secret: service.client_secret };
    const forA = await tokenRequest(url, { grant_type: 'client_credentials', resource: A }, basic);
    const forB = await tokenRequest(url, { grant_type: 'client_credentials', resource: B }, basic);
    const forNone = await tokenRequest(url, { grant_type: 'client_credentials' }, basic);
    const seen = await introspect(url, forA.body.access_token, caller);
    assert.equal(seen.body.active, true, JSON.stringify(seen.body));
    assert.equal(seen.body.sub, service.client_id);
    assert.deepEqual((await introspect(url, forB.body.access_token, caller)).body, { active: false });
    assert.deepEqual((await introspect(url, forNone.body.access_token, caller)).body, { active: false });

    // DCR_ACCESS_TOKEN_TTL=5 (long enough for a loaded machine to introspect it while live): once
    // past its exp, the token is {active:false} too.
    await sleep(Math.max(0, (seen.body.exp as number) * 1000 - Date.now()) + 1100);
    assert.deepEqual((await introspect(url, forA.body.access_token, caller)).body, { active: false });
  });
});

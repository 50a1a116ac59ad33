import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import express from 'express';
import { createRegistration, type Registration } from 'oauth-dcr';
import { expressRegistration } from 'oauth-dcr/express';
import { mcpClientsStore } from 'oauth-dcr/mcp';
import { memoryStore } from 'oauth-dcr/memory';

/**
 * An authorization server run inside an MCP server with the SDK's `mcpAuthRouter`, its clients
 * registered by oauth-dcr: `expressRegistration` at /register before the router, `mcpClientsStore`
 * as the SDK's clients store. A client registered by oauth-dcr completes the SDK's authorize and
 * token endpoints; clients oauth-dcr does not know, or whose secret the SDK cannot check, do not.
 *
 * The provider below is the application's own part (where users consent and tokens are issued):
 * it approves at once and keeps codes and tokens in memory.
 */
class ApprovingProvider implements OAuthServerProvider {
  readonly clientsStore;
  readonly codes = new Map<string, { clientId: string; challenge: string; redirectUri: string }>();
  readonly authorizedClients: string[] = [];
  constructor(registration: Registration) {
    this.clientsStore = mcpClientsStore(registration);
  }
  async authorize(
    client: OAuthClientInformationFull,
    params: { codeChallenge: string; redirectUri: string; state?: string },
    res: express.Response,
  ) {
    this.authorizedClients.push(client.client_id);
    const code = randomBytes(16).toString('base64url');
    this.codes.set(code, {
      clientId: client.client_id,
      challenge: params.codeChallenge,
      redirectUri: params.redirectUri,
    });
    const target = new URL(params.redirectUri);
    target.searchParams.set('code', code);
    if (params.state) target.searchParams.set('state', params.state);
    res.redirect(302, target.href);
  }
  async challengeForAuthorizationCode(_client: OAuthClientInformationFull, code: string) {
    const grant = this.codes.get(code);
    if (!grant) throw new Error('unknown code');
    return grant.challenge;
  }
  async exchangeAuthorizationCode(client: OAuthClientInformationFull, code: string) {
    const grant = this.codes.get(code);
    this.codes.delete(code);
    if (!grant || grant.clientId !== client.client_id) throw new Error('unknown code');
    return { access_token: randomBytes(16).toString('base64url'), token_type: 'Bearer', expires_in: 3600 };
  }
  async exchangeRefreshToken(): Promise<never> {
    throw new Error('this provider issues no refresh tokens');
  }
  async verifyAccessToken(): Promise<never> {
    throw new Error('not used here');
  }
}

let server: Server;
let origin: string;
let provider: ApprovingProvider;
const REDIRECT = 'http://127.0.0.1:43110/callback';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function register(body: Record<string, unknown>) {
  const response = await fetch(`${origin}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

function authorize(clientId: string, challenge: string) {
  const url = new URL(`${origin}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'xyz',
  }).toString();
  return fetch(url, { redirect: 'manual' });
}

before(async () => {
  const registration = createRegistration({ store: memoryStore(), onError: () => {} });
  provider = new ApprovingProvider(registration);
  const app = express();
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // oauth-dcr's endpoint first: it answers /register (and RFC 7592 below it) before the SDK's router.
  app.use('/register', expressRegistration(registration));
  app.use(
    mcpAuthRouter({
      provider,
      issuerUrl: new URL(origin),
      authorizationOptions: { rateLimit: false },
      tokenOptions: { rateLimit: false },
    }),
  );
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('mcpClientsStore with the SDK mcpAuthRouter', () => {
  it('the SDK metadata advertises the registration endpoint oauth-dcr serves', async () => {
    const metadata = (await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(metadata.registration_endpoint, `${origin}/register`);
  });

  it('registers through oauth-dcr (its policy and RFC 7592), then authorizes and exchanges a code at the SDK endpoints', async () => {
    const registered = await register({
      client_name: 'Router client',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
    });
    assert.equal(registered.status, 201);
    assert.ok(registered.body.registration_access_token, 'the answer is oauth-dcr’s, with RFC 7592 management');
    const clientId = registered.body.client_id as string;

    const { verifier, challenge } = pkce();
    const authorized = await authorize(clientId, challenge);
    assert.equal(authorized.status, 302);
    const callback = new URL(authorized.headers.get('location')!);
    assert.equal(callback.origin + callback.pathname, REDIRECT);
    assert.equal(callback.searchParams.get('state'), 'xyz');
    assert.deepEqual(provider.authorizedClients.slice(-1), [clientId]);

    const token = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code: callback.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      }),
    });
    assert.equal(token.status, 200);
    assert.equal(((await token.json()) as Record<string, string>).token_type, 'Bearer');
  });

  it('refuses a client oauth-dcr does not know', async () => {
    const response = await authorize('no-such-client', pkce().challenge);
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as Record<string, string>).error, 'invalid_client');
  });

  it('refuses a confidential client: the SDK would check its secret in plaintext, which oauth-dcr never keeps', async () => {
    const registered = await register({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code'],
    });
    assert.equal(registered.status, 201);
    assert.ok(registered.body.client_secret);
    const response = await authorize(registered.body.client_id, pkce().challenge);
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as Record<string, string>).error, 'invalid_client');
    // Not even with the secret, at the token endpoint: the client is unknown to the SDK.
    const token = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: registered.body.client_id,
        client_secret: registered.body.client_secret,
        code: 'x',
        code_verifier: 'y',
      }),
    });
    // The SDK's client authentication answers 400 for every failure; what matters is the code.
    assert.equal(((await token.json()) as Record<string, string>).error, 'invalid_client');
  });

  it('mounted in the wrong order, the SDK registration handler refuses instead of registering outside the policy', async () => {
    const registration = createRegistration({ store: memoryStore(), onError: () => {} });
    const app = express();
    app.use(
      mcpAuthRouter({
        provider: new ApprovingProvider(registration),
        issuerUrl: new URL(origin),
        clientRegistrationOptions: { rateLimit: false },
      }),
    );
    const misordered = createServer(app);
    await new Promise<void>((resolve) => misordered.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(misordered.address() as AddressInfo).port}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
      });
      assert.equal(response.status, 400);
      const body = (await response.json()) as Record<string, string>;
      assert.equal(body.error, 'invalid_client_metadata');
      assert.match(body.error_description!, /mount expressRegistration at \/register before mcpAuthRouter/);
      assert.deepEqual(await registration.store.listClients({ limit: 10 }), []);
    } finally {
      misordered.closeAllConnections();
      await new Promise((resolve) => misordered.close(resolve));
    }
  });
});

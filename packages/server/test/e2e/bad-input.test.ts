import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  authorizationUrl,
  BrowserlessUser,
  obtainTokens,
  parseForm,
  pkcePair,
  registerClient,
  tokenRequest,
} from '../support/oauth-flow.js';
import { hashPassword } from '../../src/passwords.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * Hostile and broken requests against the running reference server. The rules:
 * - /authorize never redirects to a URI it has not validated for the client (RFC 6749 §4.1.2.1,
 *   RFC 9700 §4.11); such errors are HTML pages.
 * - /token and /revoke answer RFC 6749 §5.2 JSON, never a 500 and never an HTML page.
 */
let server: TestServer;
let publicClient: Record<string, any>;
let confidentialClient: Record<string, any>;
const LOOPBACK = 'http://127.0.0.1:7777/callback';

before(async () => {
  server = await startTestServer();
  publicClient = await registerClient(server.url, {
    client_name: 'Public <script>alert(1)</script>',
    redirect_uris: [LOOPBACK],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  });
  confidentialClient = await registerClient(server.url, {
    client_name: 'Web app',
    redirect_uris: ['https://app.example/cb'],
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
  });
});
after(() => server.stop());

async function expectErrorPage(url: URL | string, status = 400): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const body = await response.text();
  assert.equal(response.status, status, body);
  assert.equal(response.headers.get('location'), null, 'an error page must never redirect');
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  return body;
}

describe('/authorize refuses to redirect until the client and redirect URI are trusted', () => {
  const pkce = pkcePair();
  const good = () => ({
    client_id: publicClient.client_id,
    redirect_uri: LOOPBACK,
    state: 'abc',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  });

  it('shows a page for an unknown client', async () => {
    const body = await expectErrorPage(authorizationUrl(server.url, { ...good(), client_id: 'no-such-client' }));
    assert.match(body, /Unknown application/);
  });

  it('shows a page when client_id is missing', async () => {
    const { client_id: _omitted, ...rest } = good();
    await expectErrorPage(authorizationUrl(server.url, rest));
  });

  it('shows a page for a redirect URI the client did not register', async () => {
    await expectErrorPage(authorizationUrl(server.url, { ...good(), redirect_uri: 'https://attacker.example/steal' }));
    await expectErrorPage(authorizationUrl(server.url, { ...good(), redirect_uri: 'http://127.0.0.1:7777/other' }));
  });

  it('shows a page for javascript:, data: and other script redirect URIs', async () => {
    for (const redirect_uri of [
      'javascript:alert(document.domain)',
      'JavaScript://%0aalert(1)',
      'data:text/html,<b>x</b>',
      'vbscript:msgbox(1)',
    ]) {
      await expectErrorPage(authorizationUrl(server.url, { ...good(), redirect_uri }));
    }
  });

  it('shows a page when a public client sends no PKCE challenge', async () => {
    const { code_challenge: _c, code_challenge_method: _m, ...rest } = good();
    const body = await expectErrorPage(authorizationUrl(server.url, rest));
    assert.match(body, /PKCE/);
  });

  it('refuses PKCE plain, for every client', async () => {
    for (const client of [publicClient, confidentialClient]) {
      await expectErrorPage(
        authorizationUrl(server.url, {
          client_id: client.client_id,
          redirect_uri: client.redirect_uris[0],
          code_challenge: pkce.verifier,
          code_challenge_method: 'plain',
        }),
      );
    }
  });

  it('shows a page when a parameter is repeated', async () => {
    const url = authorizationUrl(server.url, good());
    url.searchParams.append('redirect_uri', 'https://attacker.example/');
    await expectErrorPage(url);
  });

  it('escapes what the client registered when showing it', async () => {
    const response = await fetch(authorizationUrl(server.url, good()));
    const body = await response.text();
    assert.equal(response.status, 200);
    assert.ok(!body.includes('<script>alert(1)</script>'), 'the client name must be escaped');
    assert.ok(body.includes('Public &lt;script&gt;alert(1)&lt;/script&gt;'));
  });

  it('sends later errors to the validated redirect URI, with state and iss (RFC 9207)', async () => {
    const response = await fetch(authorizationUrl(server.url, { ...good(), response_type: 'token' }), {
      redirect: 'manual',
    });
    assert.equal(response.status, 303);
    const location = new URL(response.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, LOOPBACK);
    assert.equal(location.searchParams.get('error'), 'unsupported_response_type');
    assert.equal(location.searchParams.get('state'), 'abc');
    assert.equal(location.searchParams.get('iss'), server.url);
  });

  it('stops password guessing: after 10 failures even the right password waits', async () => {
    await server.storage.users.upsertUser('bob', await hashPassword('bobs-password'), 0);
    const user = new BrowserlessUser('bob', 'bobs-password');
    const page = await user.get(authorizationUrl(server.url, good()).href);
    const form = parseForm(await page.text());
    const attempt = (password: string) =>
      user.post(`${server.url}/authorize/login`, { ...form.fields, username: 'bob', password });
    for (let i = 0; i < 10; i++) assert.equal((await attempt(`guess-${i}`)).status, 401);
    const blocked = await attempt('bobs-password');
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    assert.match(await blocked.text(), /Too many failed attempts/);
  });

  it('refuses a consent form without the session CSRF token', async () => {
    const user = new BrowserlessUser();
    await user.get(authorizationUrl(server.url, good()).href);
    const response = await user.post(`${server.url}/authorize/decision`, {
      request: 'anything',
      decision: 'approve',
      csrf_token: 'forged',
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('location'), null);
    const fromElsewhere = await fetch(`${server.url}/authorize/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=approve',
      redirect: 'manual',
    });
    assert.equal(fromElsewhere.status, 403);
  });
});

describe('/token answers RFC 6749 §5.2 JSON errors', () => {
  async function expectTokenError(
    params: Record<string, string>,
    status: number,
    error: string,
    basic?: { id: string; secret: string },
  ): Promise<void> {
    const response = await tokenRequest(server.url, params, basic);
    assert.equal(response.status, status, JSON.stringify(response.body));
    assert.equal(response.body.error, error, JSON.stringify(response.body));
    assert.equal(typeof response.body.error_description, 'string');
    assert.equal(response.headers.get('cache-control'), 'no-store');
  }

  it('refuses a wrong client secret with 401 invalid_client', async () => {
    const { code, verifier } = await obtainTokens(server.url, confidentialClient, { basic: true }).then(async () => {
      // A fresh code: the one above was spent.
      const pkce = pkcePair();
      const back = await new BrowserlessUser().authorize(
        authorizationUrl(server.url, {
          client_id: confidentialClient.client_id,
          redirect_uri: 'https://app.example/cb',
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        }),
      );
      return { code: back.searchParams.get('code')!, verifier: pkce.verifier };
    });
    const exchange = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: 'https://app.example/cb',
    };
    const response = await tokenRequest(server.url, exchange, { id: confidentialClient.client_id, secret: 'wrong' });
    assert.equal(response.status, 401);
    assert.equal(response.body.error, 'invalid_client');
    assert.match(response.headers.get('www-authenticate') ?? '', /^Basic/);
    await expectTokenError(
      { ...exchange, client_id: confidentialClient.client_id, client_secret: 'wrong' },
      401,
      'invalid_client',
    );
    // No secret at all, only the PKCE verifier: still not authenticated.
    await expectTokenError({ ...exchange, client_id: confidentialClient.client_id }, 401, 'invalid_client');
  });

  it('refuses a reused code with invalid_grant and revokes what the code produced', async () => {
    const first = await obtainTokens(server.url, publicClient);
    const replay = {
      grant_type: 'authorization_code',
      client_id: publicClient.client_id,
      code: first.code,
      code_verifier: first.verifier,
      redirect_uri: first.redirectUri,
    };
    await expectTokenError(replay, 400, 'invalid_grant');
    // RFC 6749 §4.1.2: tokens issued from the code are revoked.
    const userinfo = await fetch(`${server.url}/userinfo`, {
      headers: { authorization: `Bearer ${first.tokens.access_token}` },
    });
    assert.equal(userinfo.status, 401);
    await expectTokenError(
      { grant_type: 'refresh_token', client_id: publicClient.client_id, refresh_token: first.tokens.refresh_token },
      400,
      'invalid_grant',
    );
  });

  it('refuses a wrong PKCE verifier with invalid_grant', async () => {
    const pkce = pkcePair();
    const back = await new BrowserlessUser().authorize(
      authorizationUrl(server.url, {
        client_id: publicClient.client_id,
        redirect_uri: LOOPBACK,
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }),
    );
    const exchange = {
      grant_type: 'authorization_code',
      client_id: publicClient.client_id,
      code: back.searchParams.get('code')!,
      redirect_uri: LOOPBACK,
    };
    await expectTokenError({ ...exchange, code_verifier: pkcePair().verifier }, 400, 'invalid_grant');
    // The failed attempt spent the code (no online guessing of verifiers).
    await expectTokenError({ ...exchange, code_verifier: pkce.verifier }, 400, 'invalid_grant');
  });

  it("refuses another client's refresh token with invalid_grant", async () => {
    const other = await registerClient(server.url, {
      redirect_uris: ['http://127.0.0.1:9000/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    const { tokens } = await obtainTokens(server.url, other);
    await expectTokenError(
      { grant_type: 'refresh_token', client_id: publicClient.client_id, refresh_token: tokens.refresh_token },
      400,
      'invalid_grant',
    );
    // The rightful owner can still use it: the refused attempt changed nothing.
    const ok = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      client_id: other.client_id,
      refresh_token: tokens.refresh_token,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('refuses grants the client did not register, and unknown grants', async () => {
    const codeOnly = await registerClient(server.url, {
      redirect_uris: ['https://app.example/cb'],
      grant_types: ['authorization_code'],
    });
    await expectTokenError({ grant_type: 'refresh_token', refresh_token: 'x' }, 400, 'unauthorized_client', {
      id: codeOnly.client_id,
      secret: codeOnly.client_secret,
    });
    // Not enabled on this server (DCR_ALLOWED_GRANT_TYPES), so not in the metadata either.
    await expectTokenError({ grant_type: 'client_credentials' }, 400, 'unsupported_grant_type', {
      id: confidentialClient.client_id,
      secret: confidentialClient.client_secret,
    });
    await expectTokenError(
      { grant_type: 'password', username: 'alice', password: 'x', client_id: publicClient.client_id },
      400,
      'unsupported_grant_type',
    );
    await expectTokenError(
      { grant_type: 'urn:example:nope', client_id: publicClient.client_id },
      400,
      'unsupported_grant_type',
    );
    await expectTokenError({ client_id: publicClient.client_id, refresh_token: 'x' }, 400, 'invalid_request');
  });

  it('answers malformed bodies with JSON 400', async () => {
    const cases: Array<{ body: string; type?: string }> = [
      { body: '{"grant_type":"authorization_code"}', type: 'application/json' },
      { body: '{not json', type: 'application/json' },
      { body: 'grant_type=refresh_token', type: 'text/plain' },
      { body: '', type: 'application/x-www-form-urlencoded' },
      { body: '%zz&&==&grant_type', type: 'application/x-www-form-urlencoded' },
      { body: 'grant_type=a&grant_type=b&client_id=x', type: 'application/x-www-form-urlencoded' },
      { body: 'grant_type=refresh_token', type: 'application/x-www-form-urlencoded; charset=klingon' },
      {
        body: 'grant_type=refresh_token&client_id=%00%ff&refresh_token=%E0%A4%A',
        type: 'application/x-www-form-urlencoded',
      },
      {
        body: 'grant_type=authorization_code&client_id=x&code[]=a&code_verifier=b',
        type: 'application/x-www-form-urlencoded',
      },
    ];
    for (const path of ['/token', '/revoke']) {
      for (const { body, type } of cases) {
        const response = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: type ? { 'content-type': type } : {},
          body,
        });
        const text = await response.text();
        assert.match(response.headers.get('content-type') ?? '', /^application\/json/, `${path} ${body}: ${text}`);
        assert.ok(
          response.status === 400 || response.status === 401,
          `${path} ${type} ${body}: ${response.status} ${text}`,
        );
        assert.equal(typeof JSON.parse(text).error, 'string');
      }
    }
  });

  it('caps the body size with a JSON 413', async () => {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&refresh_token=${'a'.repeat(100_000)}`,
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
  });

  it('answers the wrong method and unknown paths in JSON, never an HTML page', async () => {
    for (const [method, path, status] of [
      ['GET', '/token', 405],
      ['GET', '/revoke', 405],
      ['GET', '/nothing-here', 404],
      ['DELETE', '/.well-known/oauth-authorization-server', 404],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { method });
      assert.equal(response.status, status, `${method} ${path}`);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    }
  });
});

describe('/revoke (RFC 7009)', () => {
  const form = (params: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });

  it('answers 200 for unknown tokens, and requires client authentication', async () => {
    const unknown = await fetch(
      `${server.url}/revoke`,
      form({ token: 'never-issued', client_id: publicClient.client_id }),
    );
    assert.equal(unknown.status, 200);
    const anonymous = await fetch(`${server.url}/revoke`, form({ token: 'never-issued' }));
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: string }).error, 'invalid_client');
    const wrongSecret = await fetch(
      `${server.url}/revoke`,
      form({ token: 'x', client_id: confidentialClient.client_id, client_secret: 'wrong' }),
    );
    assert.equal(wrongSecret.status, 401);
    const noSecret = await fetch(`${server.url}/revoke`, form({ token: 'x', client_id: confidentialClient.client_id }));
    assert.equal(noSecret.status, 401);
  });

  it('revokes a refresh token together with the access tokens of its grant', async () => {
    const { tokens } = await obtainTokens(server.url, publicClient);
    const response = await fetch(
      `${server.url}/revoke`,
      form({ token: tokens.refresh_token, token_type_hint: 'refresh_token', client_id: publicClient.client_id }),
    );
    assert.equal(response.status, 200);
    const userinfo = await fetch(`${server.url}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(userinfo.status, 401);
    const refresh = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      client_id: publicClient.client_id,
      refresh_token: tokens.refresh_token,
    });
    assert.equal(refresh.body.error, 'invalid_grant');
  });

  it("does not let a client revoke another client's token", async () => {
    const { tokens } = await obtainTokens(server.url, confidentialClient, { basic: true });
    const response = await fetch(
      `${server.url}/revoke`,
      form({ token: tokens.access_token, client_id: publicClient.client_id }),
    );
    assert.equal(response.status, 400);
    const userinfo = await fetch(`${server.url}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(userinfo.status, 200);
  });
});

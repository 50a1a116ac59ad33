/**
 * Token endpoint rules a one-line slip would break unnoticed, through HTTP against the reference
 * server on SQLite:
 * - RFC 6749 §5.1: every answer carrying tokens has `Cache-Control: no-store` and
 *   `Pragma: no-cache`; §5.2 errors carry them too (they may describe credentials).
 * - RFC 6749 §2.3 / RFC 7591 §2: a client authenticates with the method it registered, and only
 *   with it. A public client (`none`) has no secret: one it sends is refused (401 invalid_client),
 *   never ignored; a confidential client must send its secret the way it registered.
 * - RFC 7636 §4.6: the verifier must match the challenge; RFC 6749 §4.1.3: the code is bound to
 *   the client and to the redirect URI of its authorization request; a refresh token is bound to
 *   its client (§6).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pkcePair, registerClient, tokenRequest } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';
import { authorizeCode, exchangeCode, refresh } from './grant-flow.js';

const REDIRECT = 'http://127.0.0.1:7101/cb';
const OTHER_REDIRECT = 'http://127.0.0.1:7101/other';

function assertNoStore(headers: Headers, what: string): void {
  assert.match(headers.get('cache-control') ?? '', /\bno-store\b/, `${what}: Cache-Control no-store`);
  assert.equal(headers.get('pragma'), 'no-cache', `${what}: Pragma no-cache`);
}

describe('token endpoint rules (reference server, SQLite)', () => {
  let server: TestServer;
  let publicClient: Record<string, any>;
  let otherPublicClient: Record<string, any>;
  let confidential: Record<string, any>;

  before(async () => {
    server = await startTestServer();
    const metadata = {
      redirect_uris: [REDIRECT, OTHER_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    };
    publicClient = await registerClient(server.url, metadata);
    otherPublicClient = await registerClient(server.url, metadata);
    confidential = await registerClient(server.url, {
      ...metadata,
      token_endpoint_auth_method: 'client_secret_basic',
    });
  });
  after(() => server?.stop());

  describe('no-store on every answer (RFC 6749 §5.1, §5.2)', () => {
    it('on a successful code exchange and a successful refresh', async () => {
      const grant = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const exchanged = await exchangeCode(server.url, publicClient.client_id, grant, REDIRECT);
      assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
      assertNoStore(exchanged.headers, 'code exchange');
      const refreshed = await refresh(server.url, publicClient.client_id, exchanged.body.refresh_token);
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assertNoStore(refreshed.headers, 'refresh');
    });

    it('on a confidential client exchange (HTTP Basic)', async () => {
      const grant = await authorizeCode(server.url, confidential.client_id, REDIRECT);
      const exchanged = await tokenRequest(
        server.url,
        { grant_type: 'authorization_code', code: grant.code, code_verifier: grant.verifier, redirect_uri: REDIRECT },
        { id: confidential.client_id, secret: confidential.client_secret },
      );
      assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
      assertNoStore(exchanged.headers, 'confidential code exchange');
    });

    it('on invalid_grant, invalid_client, unsupported_grant_type and invalid_request', async () => {
      const answers: Array<[string, Awaited<ReturnType<typeof tokenRequest>>, number, string]> = [
        [
          'an unknown code',
          await exchangeCode(
            server.url,
            publicClient.client_id,
            { code: 'not-a-code', verifier: 'v'.repeat(43) },
            REDIRECT,
          ),
          400,
          'invalid_grant',
        ],
        [
          'a wrong secret',
          await tokenRequest(
            server.url,
            { grant_type: 'refresh_token', refresh_token: 'x' },
            {
              id: confidential.client_id,
              secret: 'wrong',
            },
          ),
          401,
          'invalid_client',
        ],
        [
          'an unsupported grant',
          await tokenRequest(server.url, { grant_type: 'password' }),
          400,
          'unsupported_grant_type',
        ],
        ['no grant_type', await tokenRequest(server.url, {}), 400, 'invalid_request'],
      ];
      for (const [what, answer, status, error] of answers) {
        assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error, error, what);
        assertNoStore(answer.headers, what);
      }
    });
  });

  describe('a client authenticates with the method it registered (RFC 6749 §2.3, RFC 7591 §2)', () => {
    it('refuses a public client that sends client_secret in the body: 401 invalid_client, no tokens', async () => {
      const grant = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const answer = await tokenRequest(server.url, {
        grant_type: 'authorization_code',
        client_id: publicClient.client_id,
        client_secret: 'x',
        code: grant.code,
        code_verifier: grant.verifier,
        redirect_uri: REDIRECT,
      });
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.equal(answer.body.error, 'invalid_client');
      assert.equal(answer.body.access_token, undefined);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Basic /);
    });

    it('refuses a public client that sends a secret with HTTP Basic', async () => {
      const grant = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const answer = await tokenRequest(
        server.url,
        { grant_type: 'authorization_code', code: grant.code, code_verifier: grant.verifier, redirect_uri: REDIRECT },
        { id: publicClient.client_id, secret: 'x' },
      );
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.equal(answer.body.error, 'invalid_client');
    });

    it('refuses a public client that sends client_secret with a refresh token', async () => {
      const grant = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const tokens = await exchangeCode(server.url, publicClient.client_id, grant, REDIRECT);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      const answer = await tokenRequest(server.url, {
        grant_type: 'refresh_token',
        client_id: publicClient.client_id,
        client_secret: 'x',
        refresh_token: tokens.body.refresh_token,
      });
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.equal(answer.body.error, 'invalid_client');
    });

    it('refuses a client_secret_basic client that sends its (right) secret in the body, or none at all', async () => {
      const grant = await authorizeCode(server.url, confidential.client_id, REDIRECT);
      const params = {
        grant_type: 'authorization_code',
        code: grant.code,
        code_verifier: grant.verifier,
        redirect_uri: REDIRECT,
        client_id: confidential.client_id,
      };
      const inBody = await tokenRequest(server.url, { ...params, client_secret: confidential.client_secret });
      assert.equal(inBody.status, 401, JSON.stringify(inBody.body));
      assert.equal(inBody.body.error, 'invalid_client');
      const withoutSecret = await tokenRequest(server.url, params);
      assert.equal(withoutSecret.status, 401, JSON.stringify(withoutSecret.body));
      assert.equal(withoutSecret.body.error, 'invalid_client');
    });
  });

  describe('codes and refresh tokens are bound (RFC 7636 §4.6, RFC 6749 §4.1.3, §6)', () => {
    it('refuses a wrong or missing code_verifier', async () => {
      const grant = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const wrong = await exchangeCode(
        server.url,
        publicClient.client_id,
        { code: grant.code, verifier: pkcePair().verifier },
        REDIRECT,
      );
      assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
      assert.equal(wrong.body.error, 'invalid_grant');

      const other = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const missing = await tokenRequest(server.url, {
        grant_type: 'authorization_code',
        client_id: publicClient.client_id,
        code: other.code,
        redirect_uri: REDIRECT,
      });
      assert.equal(missing.status, 400, JSON.stringify(missing.body));
      assert.ok(['invalid_grant', 'invalid_request'].includes(missing.body.error), missing.body.error);
    });

    it('refuses code_challenge_method=plain, and a challenge without a method, at /authorize', async () => {
      const { verifier } = pkcePair();
      for (const method of ['plain', undefined]) {
        const url = new URL(`${server.url}/authorize`);
        url.search = new URLSearchParams({
          response_type: 'code',
          client_id: publicClient.client_id,
          redirect_uri: REDIRECT,
          code_challenge: verifier,
          ...(method ? { code_challenge_method: method } : {}),
        }).toString();
        const answer = await fetch(url, { redirect: 'manual' });
        assert.equal(answer.status, 400, `method ${method}`);
        assert.equal(answer.headers.get('location'), null, 'no code, no redirect');
        await answer.text();
      }
    });

    it('refuses a code redeemed with another registered redirect_uri, or none', async () => {
      const grant = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const other = await exchangeCode(server.url, publicClient.client_id, grant, OTHER_REDIRECT);
      assert.equal(other.status, 400, JSON.stringify(other.body));
      assert.equal(other.body.access_token, undefined);
      const again = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const none = await tokenRequest(server.url, {
        grant_type: 'authorization_code',
        client_id: publicClient.client_id,
        code: again.code,
        code_verifier: again.verifier,
      });
      assert.equal(none.status, 400, JSON.stringify(none.body));
    });

    it('answers a redirect_uri mismatch with invalid_grant (RFC 6749 §5.2)', async () => {
      const grant = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const other = await exchangeCode(server.url, publicClient.client_id, grant, OTHER_REDIRECT);
      assert.equal(other.body.error, 'invalid_grant');
    });

    it('refuses a code, or a refresh token, presented by another client', async () => {
      const grant = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const stolen = await exchangeCode(server.url, otherPublicClient.client_id, grant, REDIRECT);
      assert.equal(stolen.status, 400, JSON.stringify(stolen.body));
      assert.equal(stolen.body.error, 'invalid_grant');

      const fresh = await authorizeCode(server.url, publicClient.client_id, REDIRECT);
      const tokens = await exchangeCode(server.url, publicClient.client_id, fresh, REDIRECT);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      const stolenRefresh = await refresh(server.url, otherPublicClient.client_id, tokens.body.refresh_token);
      assert.equal(stolenRefresh.status, 400, JSON.stringify(stolenRefresh.body));
      assert.equal(stolenRefresh.body.error, 'invalid_grant');
    });

    it('never redirects to an unregistered redirect_uri, whatever else is wrong (RFC 6749 §4.1.2.1)', async () => {
      for (const redirectUri of [
        'https://evil.example/cb',
        'http://127.0.0.1.evil.example:7101/cb',
        `${REDIRECT}/more`,
        `${REDIRECT}?x=1`,
      ]) {
        const url = new URL(`${server.url}/authorize`);
        url.search = new URLSearchParams({
          response_type: 'token',
          client_id: publicClient.client_id,
          redirect_uri: redirectUri,
          state: 's',
          // Valid PKCE: a PKCE problem is shown on a page anyway, which would hide the rule.
          code_challenge: pkcePair().challenge,
          code_challenge_method: 'S256',
        }).toString();
        const answer = await fetch(url, { redirect: 'manual' });
        assert.equal(answer.status, 400, redirectUri);
        assert.equal(answer.headers.get('location'), null, `no redirect to ${redirectUri}`);
        await answer.text();
      }
    });

    it('sends other errors back to the registered redirect_uri with state and iss (RFC 6749 §4.1.2.1, RFC 9207)', async () => {
      const url = new URL(`${server.url}/authorize`);
      url.search = new URLSearchParams({
        response_type: 'token',
        client_id: publicClient.client_id,
        redirect_uri: REDIRECT,
        state: 'kept',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }).toString();
      const answer = await fetch(url, { redirect: 'manual' });
      assert.equal(answer.status, 303);
      const location = new URL(answer.headers.get('location') ?? '');
      assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
      assert.equal(location.searchParams.get('error'), 'unsupported_response_type');
      assert.equal(location.searchParams.get('state'), 'kept');
      assert.equal(location.searchParams.get('code'), null);
      assert.ok(location.searchParams.get('iss'));
    });

    it('echoes state unchanged and names the issuer on the redirect (RFC 6749 §4.1.2, RFC 9207)', async () => {
      const state = 'st-=/+?&~ 1!"{}';
      const { back } = await authorizeCode(server.url, publicClient.client_id, REDIRECT, { state });
      assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
      assert.equal(back.searchParams.get('state'), state);
      const metadata = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
      assert.equal(back.searchParams.get('iss'), (metadata as { issuer: string }).issuer);
    });
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { authorizationUrl, BrowserlessUser, parseForm, pkcePair, registerClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';

/**
 * A NUL byte (%00) in a client id, token or username was a 500 on PostgreSQL, whose text type
 * cannot hold it. Through the running reference server, on each database, such input must be
 * answered as any unknown value is. The stores' own tests (test/stores/) cover every lookup key.
 */
interface Backend {
  name: string;
  env: () => Record<string, string>;
  cleanup?: () => Promise<void>;
}

const backends: Backend[] = [{ name: 'SQLite', env: () => ({}) }];
const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
if (postgresUrl) {
  const schema = `nul_e2e_${randomBytes(5).toString('hex')}`;
  backends.push({
    name: 'PostgreSQL',
    env: () => ({ DCR_STORE: 'postgres', DATABASE_URL: postgresUrl, DATABASE_SCHEMA: schema }),
    cleanup: async () => {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  });
}

const LOOPBACK = 'http://127.0.0.1:7777/callback';

for (const backend of backends) {
  describe(`NUL in input is an unknown value, never a 500: ${backend.name}`, () => {
    let server: TestServer;
    let client: Record<string, any>;
    before(async () => {
      server = await startTestServer({ env: backend.env() });
      client = await registerClient(server.url, {
        client_name: 'NUL probe',
        redirect_uris: [LOOPBACK],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
      });
    });
    after(async () => {
      await server.stop();
      await backend.cleanup?.();
    });

    it('RFC 7592: /register/%00 with a bearer token is 401 invalid_token', async () => {
      for (const path of ['/register/%00', '/register/a%00b', `/register/${client.client_id}%00`]) {
        const response = await fetch(`${server.url}${path}`, {
          headers: { authorization: `Bearer ${client.registration_access_token}` },
        });
        assert.equal(response.status, 401, path);
        assert.equal(((await response.json()) as { error?: string }).error, 'invalid_token');
      }
      const own = await fetch(`${server.url}/register/${client.client_id}`, {
        headers: { authorization: `Bearer ${client.registration_access_token}` },
      });
      assert.equal(own.status, 200);
    });

    it('/revoke and /token with client_id=a%00b are refused with a 4xx OAuth error', async () => {
      for (const path of ['/revoke', '/token']) {
        const response = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=authorization_code&code=x%00y&token=t%00&client_id=a%00b&redirect_uri=http%3A%2F%2F127.0.0.1%3A7777%2Fcallback&code_verifier=v',
        });
        const body = (await response.json()) as { error?: string };
        assert.ok(
          response.status >= 400 && response.status < 500,
          `${path}: ${response.status} ${JSON.stringify(body)}`,
        );
        // /revoke authenticates the client first (RFC 7009 §2.1); /token may refuse the request
        // shape before that. Either way an OAuth error, not a server error.
        if (path === '/revoke') assert.equal(body.error, 'invalid_client');
        else assert.match(body.error ?? '', /^invalid_(client|request|grant)$/);
      }
    });

    it('/authorize with client_id=a%00b shows an error page; a login as a%00b is refused', async () => {
      const unknown = await fetch(authorizationUrl(server.url, { client_id: 'a\u0000b', redirect_uri: LOOPBACK }), {
        redirect: 'manual',
      });
      assert.ok(unknown.status >= 400 && unknown.status < 500, String(unknown.status));

      const pkce = pkcePair();
      const user = new BrowserlessUser('a\u0000b', 'whatever');
      const page = await user.get(
        authorizationUrl(server.url, {
          client_id: client.client_id,
          redirect_uri: LOOPBACK,
          state: 's',
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        }).href,
      );
      assert.equal(page.status, 200);
      const form = parseForm(await page.text());
      const login = await user.post(new URL(form.action, server.url).href, {
        ...form.fields,
        username: 'a\u0000b',
        password: 'whatever',
      });
      assert.ok(login.status >= 400 && login.status < 500, `login answered ${login.status}`);
    });
  });
}

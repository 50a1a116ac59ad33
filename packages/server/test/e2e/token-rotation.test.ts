/**
 * Two token requests racing for one refresh token, or one code, through the real server on
 * memory, SQLite and PostgreSQL: exactly one gets tokens, the other invalid_grant. A refresh
 * revokes the old token in the same durable write as it stores the new ones (model saveToken;
 * see test/stores/token-rotation-storage.test.ts for why no crash can separate them); a code is
 * spent by its own conditional update before the library checks the verifier.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { requireService } from '../../../oauth-dcr/test/support/services.js';
import {
  authorizationUrl,
  BrowserlessUser,
  obtainTokens,
  pkcePair,
  registerClient,
  tokenRequest,
} from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

const REDIRECT = 'http://127.0.0.1:9/callback';
const ROUNDS = 3;

interface Backend {
  name: string;
  store: 'memory' | 'sqlite';
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

const backends: Backend[] = [
  { name: 'memory', store: 'memory', env: {}, cleanup: async () => undefined },
  { name: 'sqlite', store: 'sqlite', env: {}, cleanup: async () => undefined },
];
const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
if (postgresUrl) {
  const schema = `ref_rotation_${randomBytes(5).toString('hex')}`;
  backends.push({
    name: 'postgres',
    store: 'sqlite',
    env: { DCR_STORE: 'postgres', DATABASE_URL: postgresUrl, DATABASE_SCHEMA: schema },
    async cleanup() {
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

/** One 200 with tokens and one 400 invalid_grant, in either order. */
function assertOneWinner(results: Array<{ status: number; body: Record<string, any> }>): Record<string, any> {
  const statuses = results.map((result) => result.status).sort();
  assert.deepEqual(statuses, [200, 400], JSON.stringify(results.map((result) => result.body)));
  const loser = results.find((result) => result.status === 400)!;
  assert.equal(loser.body.error, 'invalid_grant');
  const winner = results.find((result) => result.status === 200)!;
  assert.equal(typeof winner.body.access_token, 'string');
  return winner.body;
}

for (const backend of backends) {
  describe(`concurrent refresh rotations and code exchanges: ${backend.name}`, () => {
    let server: TestServer;
    let client: Record<string, any>;
    before(async () => {
      server = await startTestServer({ store: backend.store, env: backend.env });
      client = await registerClient(server.url, {
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
      });
    });
    after(async () => {
      await server?.stop();
      await backend.cleanup();
    });

    it('of two concurrent refreshes of one refresh token, exactly one gets tokens', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { tokens } = await obtainTokens(server.url, client, { redirectUri: REDIRECT });
        const refresh = () =>
          tokenRequest(server.url, {
            grant_type: 'refresh_token',
            refresh_token: tokens.refresh_token,
            client_id: client.client_id,
          });
        assertOneWinner(await Promise.all([refresh(), refresh()]));
        // The rotated-out token stays dead.
        const again = await refresh();
        assert.equal(again.status, 400);
        assert.equal(again.body.error, 'invalid_grant');
      }
    });

    it('a single refresh rotates: the new refresh token works once, the old one no more', async () => {
      const { tokens } = await obtainTokens(server.url, client, { redirectUri: REDIRECT });
      const refresh = (token: string) =>
        tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: token, client_id: client.client_id });
      const first = await refresh(tokens.refresh_token);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const second = await refresh(first.body.refresh_token);
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal((await refresh(first.body.refresh_token)).body.error, 'invalid_grant');
    });

    it('a refresh refused for its scope leaves the refresh token live (it is replaced only when a new one is issued)', async () => {
      const { tokens } = await obtainTokens(server.url, client, { redirectUri: REDIRECT });
      const refused = await tokenRequest(server.url, {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: client.client_id,
        scope: 'a-scope-never-granted',
      });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      const refreshed = await tokenRequest(server.url, {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: client.client_id,
      });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    });

    it('of two concurrent exchanges of one code, exactly one gets tokens', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { verifier, challenge } = pkcePair();
        const back = await new BrowserlessUser().authorize(
          authorizationUrl(server.url, {
            client_id: client.client_id,
            redirect_uri: REDIRECT,
            state: 's',
            code_challenge: challenge,
            code_challenge_method: 'S256',
          }),
        );
        const code = back.searchParams.get('code');
        assert.ok(code, back.href);
        const exchange = () =>
          tokenRequest(server.url, {
            grant_type: 'authorization_code',
            code,
            code_verifier: verifier,
            redirect_uri: REDIRECT,
            client_id: client.client_id,
          });
        assertOneWinner(await Promise.all([exchange(), exchange()]));
        assert.equal((await exchange()).body.error, 'invalid_grant');
      }
    });
  });
}

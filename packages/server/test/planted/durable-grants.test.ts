/**
 * Grant rules that only a durable store can break, through HTTP against the reference server on
 * SQLite and PostgreSQL (the memory store cannot stand in: its writes never interleave):
 * - RFC 6749 §4.1.2 / §10.5: an authorization code is used once. Of several concurrent
 *   exchanges of one code exactly one gets tokens, round after round.
 * - RFC 9700 §4.14.2: refresh token replay detection. After rt1 -> rt2 (rotation), rt1 coming
 *   back means two parties hold the grant: rt2 and every access token of the grant die with it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BrowserlessUser, pkcePair, authorizationUrl, registerClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';
import { durableBackends, exchangeCode, refresh } from './grant-flow.js';

const REDIRECT = 'http://127.0.0.1:7102/cb';
const CODES = 20;

for (const backend of durableBackends('ref_planted_grants')) {
  describe(`durable grant rules: ${backend.name}`, () => {
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

    /** A code through the consent page, for a user signed in once. */
    async function code(user: BrowserlessUser): Promise<{ code: string; verifier: string }> {
      const { verifier, challenge } = pkcePair();
      const back = await user.authorize(
        authorizationUrl(server.url, {
          client_id: client.client_id,
          redirect_uri: REDIRECT,
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
      );
      const value = back.searchParams.get('code');
      assert.ok(value, back.href);
      return { code: value, verifier };
    }

    const userinfo = (token: string) =>
      fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${token}` } }).then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      });

    it(`of 2 to 4 concurrent exchanges of one code, exactly one gets tokens (${CODES} codes)`, async () => {
      const user = new BrowserlessUser();
      const tally: string[] = [];
      for (let round = 0; round < CODES; round++) {
        const grant = await code(user);
        const racers = 2 + (round % 3);
        const answers = await Promise.all(
          Array.from({ length: racers }, () => exchangeCode(server.url, client.client_id, grant, REDIRECT)),
        );
        const statuses = answers.map((answer) => answer.status);
        const winners = answers.filter((answer) => answer.status === 200);
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(statuses)}`);
        assert.equal(typeof winners[0]!.body.access_token, 'string');
        for (const loser of answers.filter((answer) => answer.status !== 200)) {
          assert.equal(loser.status, 400, JSON.stringify(loser.body));
          assert.equal(loser.body.error, 'invalid_grant');
        }
        tally.push(statuses.join(''));
      }
      assert.equal(tally.length, CODES);
    });

    it('a replayed rotated-out refresh token revokes its successor and the grant’s access tokens (RFC 9700 §4.14.2)', async () => {
      const grant = await code(new BrowserlessUser());
      const first = await exchangeCode(server.url, client.client_id, grant, REDIRECT);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const rt1: string = first.body.refresh_token;
      const at1: string = first.body.access_token;

      const rotated = await refresh(server.url, client.client_id, rt1);
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      const rt2: string = rotated.body.refresh_token;
      const at2: string = rotated.body.access_token;
      assert.notEqual(rt2, rt1);
      assert.equal(await userinfo(at2), 200, 'the new access token works before the replay');

      const replay = await refresh(server.url, client.client_id, rt1);
      assert.equal(replay.status, 400, JSON.stringify(replay.body));
      assert.equal(replay.body.error, 'invalid_grant');

      const afterReplay = await refresh(server.url, client.client_id, rt2);
      assert.equal(afterReplay.status, 400, `rt2 must die with the replay: ${JSON.stringify(afterReplay.body)}`);
      assert.equal(afterReplay.body.error, 'invalid_grant');
      assert.equal(await userinfo(at2), 401, 'the access token issued with rt2 must die with the replay');
      assert.equal(await userinfo(at1), 401, 'the first access token of the grant must die too');
    });

    it('a replay revokes only its own grant: another grant of the same client keeps working', async () => {
      const user = new BrowserlessUser();
      const mine = await exchangeCode(server.url, client.client_id, await code(user), REDIRECT);
      const other = await exchangeCode(server.url, client.client_id, await code(user), REDIRECT);
      assert.equal(mine.status, 200);
      assert.equal(other.status, 200);
      const rotated = await refresh(server.url, client.client_id, mine.body.refresh_token);
      assert.equal(rotated.status, 200);
      assert.equal((await refresh(server.url, client.client_id, mine.body.refresh_token)).status, 400);
      assert.equal(await userinfo(other.body.access_token), 200);
      const otherRefresh = await refresh(server.url, client.client_id, other.body.refresh_token);
      assert.equal(otherRefresh.status, 200, JSON.stringify(otherRefresh.body));
    });
  });
}

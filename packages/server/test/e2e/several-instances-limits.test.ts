import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { parseForm } from '../support/oauth-flow.js';
import {
  randomLoopbackAddress,
  requestFrom,
  startCluster,
  type Cluster,
  type PlainAnswer,
  type RoutingProxy,
} from '../support/instances.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';

/**
 * Issue 11, "Several instances": rate limits and throttles are shared (counted in one Redis), so
 * two instances behind one address spend one budget: registrations per address, failed sign-ins
 * per address and user, failed client authentications per client_id. Each is spent partly on A
 * and partly on B, and then refused on either. Each source address is one of this test's own
 * (127.x.y.z, see support/routing-proxy.ts), so that nothing else on the machine spends them.
 */
const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
const redisUrl = requireService('DCR_TEST_REDIS_URL', process.env.DCR_TEST_REDIS_URL);

/** Registrations per address the instances allow together (DCR_LIMIT_REGISTER_PER_ADDRESS). */
const REGISTRATIONS_PER_ADDRESS = 3;
/** The login throttle's default per address + username, per 15 minutes (login-throttle.ts). */
const SIGN_INS_PER_ADDRESS_AND_USERNAME = 10;
/** Failed client authentications per client_id the instances allow together (DCR_LIMIT_FAILED_AUTH_PER_CLIENT). */
const FAILED_AUTHENTICATIONS_PER_CLIENT = 4;

describe('limits shared by two instances', { skip: !postgresUrl || !redisUrl }, () => {
  let cluster: Cluster;
  let proxy: RoutingProxy;

  before(
    async () => {
      cluster = await startCluster({
        postgresUrl: postgresUrl!,
        redisUrl: redisUrl!,
        names: ['A', 'B'],
        env: {
          DCR_LIMIT_REGISTER_PER_ADDRESS: `${REGISTRATIONS_PER_ADDRESS}/1h`,
          DCR_LIMIT_FAILED_AUTH_PER_CLIENT: `${FAILED_AUTHENTICATIONS_PER_CLIENT}/1h`,
          DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
        },
      });
      proxy = cluster.proxy;
    },
    { timeout: 120_000 },
  );
  after(() => cluster?.stop(), { timeout: 60_000 });

  it(`spends one registration limit across both: ${REGISTRATIONS_PER_ADDRESS} per address in all, then 429 on either`, {
    timeout: 60_000,
  }, async () => {
    const address = randomLoopbackAddress();
    const register = (instance: string, from = address) =>
      proxy.on(instance, () =>
        requestFrom(from, `${cluster.issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            client_name: `Quota ${randomBytes(3).toString('hex')}`,
            redirect_uris: ['http://127.0.0.1/callback'],
            token_endpoint_auth_method: 'none',
          }),
        }),
      );
    const allowed = [await register('A'), await register('A'), await register('B')];
    assert.deepEqual(
      allowed.map((answer) => answer.status),
      [201, 201, 201],
      allowed.map((answer) => answer.body).join('\n'),
    );
    for (const instance of ['A', 'B']) {
      const refused = await register(instance);
      assert.equal(
        refused.status,
        429,
        `registration ${REGISTRATIONS_PER_ADDRESS + 1}+ on ${instance}: ${refused.body}`,
      );
      assertTooManyRequests(refused);
    }
    // The limit is the address's: another address still registers, on either instance.
    const other = randomLoopbackAddress();
    assert.equal((await register('B', other)).status, 201);
    assert.equal((await register('A', other)).status, 201);
  });

  it(`shares the login throttle: ${SIGN_INS_PER_ADDRESS_AND_USERNAME} failed sign-ins per address and user across both, then 429 on either`, {
    timeout: 60_000,
  }, async () => {
    const client = await proxy.on('A', () =>
      requestFrom(proxy.clientAddress, `${cluster.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'Throttle',
          redirect_uris: ['http://127.0.0.1/callback'],
          token_endpoint_auth_method: 'none',
        }),
      }),
    );
    assert.equal(client.status, 201, client.body);
    const clientId = String((JSON.parse(client.body) as Record<string, unknown>).client_id);
    const attacker = randomLoopbackAddress();
    const signIn = (instance: string, from: string, password: string) =>
      proxy.on(instance, async () => {
        const url = new URL(`${cluster.issuer}/authorize`);
        url.search = new URLSearchParams({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: 'http://127.0.0.1/callback',
          state: 'st',
          code_challenge: oidc.randomPKCECodeVerifier().slice(0, 43),
          code_challenge_method: 'S256',
        }).toString();
        const page = await requestFrom(from, url.href);
        assert.equal(page.status, 200, page.body.slice(0, 500));
        const form = parseForm(page.body);
        const cookie = ([] as string[])
          .concat(page.headers['set-cookie'] ?? [])
          .map((line) => line.split(';', 1)[0])
          .join('; ');
        return requestFrom(from, new URL(form.action, cluster.issuer).href, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
          body: new URLSearchParams({ ...form.fields, username: cluster.user.username, password }).toString(),
        });
      });

    const guesses: number[] = [];
    for (let i = 0; i < SIGN_INS_PER_ADDRESS_AND_USERNAME; i++)
      guesses.push((await signIn(i % 2 === 0 ? 'A' : 'B', attacker, `wrong-${i}`)).status);
    assert.deepEqual(guesses, Array(SIGN_INS_PER_ADDRESS_AND_USERNAME).fill(401));
    for (const instance of ['A', 'B']) {
      const refused = await signIn(instance, attacker, `wrong-again-${instance}`);
      assert.equal(refused.status, 429, `guess ${SIGN_INS_PER_ADDRESS_AND_USERNAME + 1}+ on ${instance} is throttled`);
      assert.match(String(refused.headers['retry-after']), /^[1-9]\d*$/);
    }
    // The owner, from another address, still signs in on either instance.
    const owner = randomLoopbackAddress();
    for (const instance of ['B', 'A']) {
      const signedIn = await signIn(instance, owner, cluster.user.password);
      assert.equal(signedIn.status, 303, `the owner signs in on ${instance}: ${signedIn.body.slice(0, 300)}`);
    }
  });

  it(`spends one failed-authentication limit per client_id across both: ${FAILED_AUTHENTICATIONS_PER_CLIENT} wrong secrets in all, then 429 on either; the right secret still works`, {
    timeout: 60_000,
  }, async () => {
    const registered = await requestFrom(randomLoopbackAddress(), `${cluster.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Secret guessing target',
        redirect_uris: ['https://app.example/cb'],
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    assert.equal(registered.status, 201, registered.body);
    const client = JSON.parse(registered.body) as Record<string, string>;
    const tokenFrom = (instance: string, from: string, secret: string) =>
      proxy.on(instance, () =>
        requestFrom(from, `${cluster.issuer}/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id!)}:${encodeURIComponent(secret)}`).toString('base64')}`,
          },
          body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
        }),
      );
    // Each guess from an address of its own: only the per-client_id count can add them up.
    const guesses: number[] = [];
    for (let i = 0; i < FAILED_AUTHENTICATIONS_PER_CLIENT; i++)
      guesses.push((await tokenFrom(i % 2 === 0 ? 'A' : 'B', randomLoopbackAddress(), `wrong-${i}`)).status);
    assert.deepEqual(guesses, Array(FAILED_AUTHENTICATIONS_PER_CLIENT).fill(401));
    for (const instance of ['A', 'B']) {
      const refused = await tokenFrom(instance, randomLoopbackAddress(), `wrong-again-${instance}`);
      assert.equal(
        refused.status,
        429,
        `guess ${FAILED_AUTHENTICATIONS_PER_CLIENT + 1}+ on ${instance}: ${refused.body}`,
      );
      assertTooManyRequests(refused);
    }
    // Issue 11: a correct client is never slowed by an attacker guessing its secret.
    for (const instance of ['B', 'A']) {
      const answer = await tokenFrom(instance, randomLoopbackAddress(), client.client_secret!);
      assert.equal(answer.status, 200, `the right secret on ${instance}: ${answer.body}`);
    }
  });
});

/** RFC 6585 §4 and the house rule: 429 with Retry-After and the usual JSON error body. */
function assertTooManyRequests(answer: PlainAnswer): void {
  assert.match(String(answer.headers['retry-after']), /^[1-9]\d*$/, 'Retry-After in whole seconds');
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  assert.equal(typeof body.error, 'string');
  assert.equal(typeof body.error_description, 'string');
  assert.equal(answer.body.includes('\n    at '), false, 'no stack');
}

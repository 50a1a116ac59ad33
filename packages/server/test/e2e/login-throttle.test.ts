import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/passwords.js';
import { postFormFrom, type PlainResponse } from '../support/http-from-address.js';
import { authorizationUrl, BrowserlessUser, parseForm, pkcePair, registerClient } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, DEMO_USERNAME, startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * The login throttle through the real server (src/server/login-throttle.ts): an attempt counts
 * when it starts, so parallel guesses cannot outrun the count, and an account's guesses are
 * capped across every source address, not only per address. The limits are the defaults:
 * 10 per address + username per 15 minutes, 50 per username per hour, 100 per address per hour.
 */
const PER_ADDRESS_AND_USERNAME = 10;
const PER_USERNAME = 50;
const PER_ADDRESS = 100;
/** 127.0.0.2 ... 127.0.0.12: eleven source addresses on Linux loopback. */
const OTHER_ADDRESSES = Array.from({ length: 11 }, (_, i) => `127.0.0.${i + 2}`);

describe('login throttle', () => {
  let server: TestServer;
  let client: Record<string, any>;

  before(async () => {
    server = await startTestServer({ store: 'memory' });
    client = await registerClient(server.url, {
      client_name: 'Throttle Test',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    });
  });
  after(() => server?.stop());

  /** A login form as a browser gets it: its fields and the login-CSRF cookie that goes with them. */
  async function loginForm(): Promise<{ fields: Record<string, string>; cookie: string }> {
    const user = new BrowserlessUser();
    const page = await user.get(
      authorizationUrl(server.url, {
        client_id: client.client_id,
        redirect_uri: 'http://127.0.0.1:4000/callback',
        state: 'st',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }).href,
    );
    assert.equal(page.status, 200);
    return { fields: parseForm(await page.text()).fields, cookie: user.jar.header() };
  }

  async function signIn(from: string, username: string, password: string): Promise<PlainResponse> {
    const form = await loginForm();
    return postFormFrom(
      from,
      `${server.url}/authorize/login`,
      { ...form.fields, username, password },
      { cookie: form.cookie },
    );
  }

  function count(responses: PlainResponse[], status: number): number {
    return responses.filter((response) => response.status === status).length;
  }

  it('counts an attempt when it starts: of 79 parallel wrong passwords at most 10 are checked, then the right one waits', async () => {
    const username = 'carol';
    await server.storage.users.upsertUser(username, await hashPassword('carols-password'), 0);
    const form = await loginForm();
    const guesses = await Promise.all(
      Array.from({ length: 79 }, (_, i) =>
        postFormFrom(
          '127.0.0.1',
          `${server.url}/authorize/login`,
          { ...form.fields, username, password: `guess-${i}` },
          { cookie: form.cookie },
        ),
      ),
    );
    const checked = count(guesses, 401);
    assert.ok(checked <= PER_ADDRESS_AND_USERNAME, `${checked} of 79 parallel guesses were checked`);
    assert.equal(checked + count(guesses, 429), 79, 'every other guess is refused as throttled');

    const right = await postFormFrom(
      '127.0.0.1',
      `${server.url}/authorize/login`,
      { ...form.fields, username, password: 'carols-password' },
      { cookie: form.cookie },
    );
    assert.equal(right.status, 429, 'the right password is refused while throttled');
    assert.ok(Number(right.headers['retry-after']) > 0, 'with Retry-After');
    assert.match(String(right.headers['content-type']), /^text\/html/);
    assert.match(right.body, /role="alert">Too many failed attempts for this account\. Try again in \d+ minutes?\./);
    assert.match(right.body, /<form method="post" action="\/authorize\/login">/, 'the login page is shown again');
    assert.equal(
      [right.headers['set-cookie'] ?? []].flat().some((cookie) => cookie.startsWith('dcr_session=')),
      false,
      'no session',
    );
  });

  it('caps guesses at one username across many source addresses, and its owner still signs in from a known address', async () => {
    // The owner signed in from 127.0.0.1 before the attack: that address is known for the account.
    const owner = await signIn('127.0.0.1', DEMO_USERNAME, DEMO_PASSWORD);
    assert.equal(owner.status, 303);

    // Eleven addresses, each staying within its own per-address + username limit: 110 guesses.
    const perAddress = await Promise.all(
      OTHER_ADDRESSES.map(async (address) => {
        const form = await loginForm();
        const responses: PlainResponse[] = [];
        for (let i = 0; i < PER_ADDRESS_AND_USERNAME; i++) {
          responses.push(
            await postFormFrom(
              address,
              `${server.url}/authorize/login`,
              { ...form.fields, username: DEMO_USERNAME, password: `${address}-${i}` },
              { cookie: form.cookie },
            ),
          );
        }
        return responses;
      }),
    );
    const guesses = perAddress.flat();
    const checked = count(guesses, 401);
    assert.equal(guesses.length, OTHER_ADDRESSES.length * PER_ADDRESS_AND_USERNAME);
    assert.ok(
      checked <= PER_USERNAME,
      `${checked} of ${guesses.length} guesses from ${OTHER_ADDRESSES.length} addresses were checked`,
    );
    assert.equal(checked + count(guesses, 429), guesses.length);

    // A new address with the right password waits too: the account's budget is spent...
    const fromNewAddress = await signIn('127.0.0.13', DEMO_USERNAME, DEMO_PASSWORD);
    assert.equal(fromNewAddress.status, 429);
    assert.ok(Number(fromNewAddress.headers['retry-after']) > 0);
    // ...but the owner's known address does not depend on that budget (no lock-out from there).
    const fromKnownAddress = await signIn('127.0.0.1', DEMO_USERNAME, DEMO_PASSWORD);
    assert.equal(fromKnownAddress.status, 303);
  });

  it('caps guesses from one address across usernames (password spraying)', async () => {
    const from = '127.0.0.14';
    const form = await loginForm();
    const responses: PlainResponse[] = [];
    for (let i = 0; i < PER_ADDRESS + 5; i++) {
      responses.push(
        await postFormFrom(
          from,
          `${server.url}/authorize/login`,
          { ...form.fields, username: `sprayed-${i}`, password: 'Password1' },
          { cookie: form.cookie },
        ),
      );
    }
    assert.equal(count(responses, 401), PER_ADDRESS);
    assert.equal(count(responses, 429), 5);
    assert.match(responses.at(-1)!.body, /Too many failed attempts from your network/);
  });
});

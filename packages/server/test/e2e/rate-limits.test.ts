import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { postFormFrom, type PlainResponse } from '../support/http-from-address.js';
import { basicAuthorization, postJsonFrom } from '../support/json-from-address.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * The rate limits through the real server, each source address a distinct loopback address
 * (127.0.0.2, 127.0.0.3, ...: the socket peer, no header believed). A refusal is 429 with
 * Retry-After and the usual JSON error body; other addresses and correct credentials go on.
 */

const PUBLIC_CLIENT = {
  client_name: 'Limit test',
  redirect_uris: ['http://127.0.0.1:7000/callback'],
  token_endpoint_auth_method: 'none',
};

function assertRefused(response: PlainResponse): void {
  assert.equal(response.status, 429, response.body);
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${response.headers['retry-after']}`);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  assert.equal(typeof body.error, 'string');
  assert.equal(typeof body.error_description, 'string');
}

describe('registration limit per address (DCR_LIMIT_REGISTER_PER_ADDRESS=3/1h)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ store: 'memory', env: { DCR_LIMIT_REGISTER_PER_ADDRESS: '3/1h' } });
  });
  after(() => server?.stop());

  it('answers 429 to the fourth registration from one address while another address registers', async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await postJsonFrom('127.0.0.2', `${server.url}/register`, PUBLIC_CLIENT);
      assert.equal(ok.status, 201, ok.body);
    }
    assertRefused(await postJsonFrom('127.0.0.2', `${server.url}/register`, PUBLIC_CLIENT));
    const other = await postJsonFrom('127.0.0.3', `${server.url}/register`, PUBLIC_CLIENT);
    assert.equal(other.status, 201, other.body);
  });
});

describe('default registration limits (DCR_RATE_LIMITS=on, nothing else set)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ store: 'memory', env: { DCR_RATE_LIMITS: 'on' } });
  });
  after(() => server?.stop());

  it('are on: a flood from one address is refused, and another address still registers', async () => {
    let accepted = 0;
    let refused: PlainResponse | undefined;
    // The documented default is 60 an hour plus a burst of 30: well under 200.
    while (!refused && accepted < 200) {
      const response = await postJsonFrom('127.0.0.4', `${server.url}/register`, PUBLIC_CLIENT);
      if (response.status === 201) accepted++;
      else refused = response;
    }
    assert.ok(refused, 'no registration was refused');
    assertRefused(refused);
    assert.ok(accepted >= 60, `only ${accepted} accepted before the first refusal`);
    const other = await postJsonFrom('127.0.0.5', `${server.url}/register`, PUBLIC_CLIENT);
    assert.equal(other.status, 201, other.body);
  });
});

describe('failed client authentication (the default limits)', () => {
  type Client = { client_id: string; client_secret: string };
  let server: TestServer;
  /** Each test guesses at a client of its own: the per-client counts never carry over. */
  let client: Client;
  before(async () => {
    server = await startTestServer({
      store: 'memory',
      env: { DCR_RATE_LIMITS: 'on', DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials' },
    });
  });
  async function registerConfidential(): Promise<Client> {
    const registered = await postJsonFrom('127.0.0.20', `${server.url}/register`, {
      redirect_uris: ['https://app.example/cb'],
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    assert.equal(registered.status, 201, registered.body);
    return JSON.parse(registered.body) as Client;
  }
  beforeEach(async () => {
    client = await registerConfidential();
  });
  after(() => server?.stop());

  const token = (from: string, secret: string) =>
    postFormFrom(
      from,
      `${server.url}/token`,
      { grant_type: 'client_credentials' },
      { authorization: basicAuthorization(client.client_id, secret) },
    );

  it('300 wrong secrets from one address end in 429; the right secret from another address and the same client_id still gets a token', async () => {
    const statuses = new Map<number, number>();
    let last: PlainResponse | undefined;
    for (let i = 0; i < 300; i++) {
      last = await token('127.0.0.21', `wrong-${i}`);
      statuses.set(last.status, (statuses.get(last.status) ?? 0) + 1);
    }
    assert.deepEqual([...statuses.keys()].sort(), [401, 429]);
    assert.ok((statuses.get(401) ?? 0) <= 40, `${statuses.get(401)} guesses were checked`);
    assertRefused(last!);
    // The guessing address is refused even with the right secret: its budget is spent.
    assertRefused(await token('127.0.0.21', client.client_secret));
    const right = await token('127.0.0.22', client.client_secret);
    assert.equal(right.status, 200, right.body);
    assert.equal(typeof JSON.parse(right.body).access_token, 'string');
  });

  it('wrong secrets for one client_id from many addresses are answered 429; its right secret still works', async () => {
    let refused: PlainResponse | undefined;
    let checked = 0;
    // 20 addresses, 3 guesses each: no address reaches its own budget.
    for (let i = 0; i < 60 && !refused; i++) {
      const response = await token(`127.0.1.${(i % 20) + 1}`, `wrong-${i}`);
      if (response.status === 429) refused = response;
      else assert.equal(response.status, 401, response.body);
      checked++;
    }
    assert.ok(refused, 'the per-client limit never answered');
    assert.ok(checked >= 10, `refused after ${checked} failures`);
    assertRefused(refused);
    const right = await token('127.0.1.100', client.client_secret);
    assert.equal(right.status, 200, right.body);
  });

  it('counts failures at /revoke and /introspect as well, and answers 429 past the limit', async () => {
    for (const path of ['/revoke', '/introspect']) {
      if (path === '/introspect') client = await registerConfidential();
      const from = path === '/revoke' ? '127.0.0.31' : '127.0.0.32';
      let last: PlainResponse | undefined;
      let failures = 0;
      for (let i = 0; i < 40; i++) {
        last = await postFormFrom(
          from,
          `${server.url}${path}`,
          { token: 'anything' },
          { authorization: basicAuthorization(client.client_id, `wrong-${i}`) },
        );
        if (last.status === 429) break;
        assert.equal(last.status, 401, `${path}: ${last.body}`);
        failures++;
      }
      assertRefused(last!);
      assert.ok(failures >= 10, `${path}: refused after ${failures} failures`);
    }
  });
});

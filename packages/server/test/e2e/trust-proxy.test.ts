import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postFormFrom } from '../support/http-from-address.js';
import { basicAuthorization, postJsonFrom } from '../support/json-from-address.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * The client address behind a proxy (DCR_TRUST_PROXY): X-Forwarded-For is believed only from a
 * peer the setting names. Measured through the per-address registration limit (2 an hour) and
 * the failed-authentication limit: a spoofed header from anyone else changes nothing.
 */
const CLIENT = {
  redirect_uris: ['http://127.0.0.1:7000/callback'],
  token_endpoint_auth_method: 'none',
};
const LIMITS = { DCR_LIMIT_REGISTER_PER_ADDRESS: '2/1h' };

async function registerAs(server: TestServer, from: string, forwardedFor?: string): Promise<number> {
  const headers: Record<string, string> = forwardedFor ? { 'x-forwarded-for': forwardedFor } : {};
  return (await postJsonFrom(from, `${server.url}/register`, CLIENT, headers)).status;
}

describe('without DCR_TRUST_PROXY', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ store: 'memory', env: LIMITS });
  });
  after(() => server?.stop());

  it('ignores X-Forwarded-For: a new forged address per request still spends the socket peer’s limit', async () => {
    assert.equal(await registerAs(server, '127.0.0.2', '198.51.100.1'), 201);
    assert.equal(await registerAs(server, '127.0.0.2', '198.51.100.2'), 201);
    assert.equal(await registerAs(server, '127.0.0.2', '198.51.100.3'), 429);
    assert.equal(await registerAs(server, '127.0.0.2', '203.0.113.9, 198.51.100.4'), 429);
  });
});

describe('with DCR_TRUST_PROXY=127.0.0.10', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      store: 'memory',
      env: {
        ...LIMITS,
        DCR_TRUST_PROXY: '127.0.0.10',
        DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
      },
    });
  });
  after(() => server?.stop());

  it('believes the trusted proxy: each forwarded client has its own limit', async () => {
    assert.equal(await registerAs(server, '127.0.0.10', '198.51.100.1'), 201);
    assert.equal(await registerAs(server, '127.0.0.10', '198.51.100.1'), 201);
    assert.equal(await registerAs(server, '127.0.0.10', '198.51.100.1'), 429);
    // Another client behind the same proxy is not held back by the first.
    assert.equal(await registerAs(server, '127.0.0.10', '198.51.100.2'), 201);
    // What the client itself wrote to the left of the proxy's entry is not believed.
    assert.equal(await registerAs(server, '127.0.0.10', '198.51.100.2, 198.51.100.1'), 429);
  });

  it('still ignores the header from a peer it does not trust', async () => {
    assert.equal(await registerAs(server, '127.0.0.11', '198.51.100.7'), 201);
    assert.equal(await registerAs(server, '127.0.0.11', '198.51.100.8'), 201);
    assert.equal(await registerAs(server, '127.0.0.11', '198.51.100.9'), 429);
  });

  it('uses the same address for the failed-authentication limit at /token', async () => {
    const registered = await postJsonFrom('127.0.0.12', `${server.url}/register`, {
      redirect_uris: ['https://app.example/cb'],
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    assert.equal(registered.status, 201, registered.body);
    const client = JSON.parse(registered.body) as { client_id: string; client_secret: string };
    const token = (forwardedFor: string, secret: string) =>
      postFormFrom(
        '127.0.0.10',
        `${server.url}/token`,
        { grant_type: 'client_credentials' },
        { authorization: basicAuthorization(client.client_id, secret), 'x-forwarded-for': forwardedFor },
      );
    let status = 401;
    for (let i = 0; i < 40 && status === 401; i++) status = (await token('198.51.100.50', `wrong-${i}`)).status;
    assert.equal(status, 429);
    // The guessing address is refused with the right secret; the client behind the same proxy is not.
    assert.equal((await token('198.51.100.50', client.client_secret)).status, 429);
    assert.equal((await token('198.51.100.51', client.client_secret)).status, 200);
  });
});

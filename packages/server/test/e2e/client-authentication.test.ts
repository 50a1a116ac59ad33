import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { obtainTokens, registerClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * The reference server holds every client to the token_endpoint_auth_method it registered
 * (RFC 7591 §2) wherever a client authenticates: /token and /revoke. Over real HTTP:
 * - another method than the registered one is invalid_client (RFC 6749 §5.2);
 * - a public (`none`) client presenting a secret uses a method it did not register;
 * - two methods in one request are invalid_request (RFC 6749 §2.3, and §5.2 names them);
 * - whenever HTTP Basic was tried, a refusal is 401 with `WWW-Authenticate: Basic` (§5.2).
 */

type How =
  | 'basic' // Authorization: Basic id:secret
  | 'basic without secret' // Authorization: Basic id:
  | 'post' // client_id + client_secret in the body
  | 'post wrong secret'
  | 'none' // client_id alone
  | 'none with secret' // client_id + client_secret=x (a public client has no secret)
  | 'basic and post'; // both at once

interface Client {
  client_id: string;
  client_secret?: string;
  token_endpoint_auth_method: string;
}

let server: TestServer;
let basicClient: Client;
let postClient: Client;
let publicClient: Client;
/** A live refresh token of publicClient: refused attempts do not spend it. */
let publicRefreshToken: string;

before(async () => {
  server = await startTestServer({
    env: { DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials' },
  });
  const confidential = {
    redirect_uris: ['https://app.example/cb'],
    grant_types: ['client_credentials'],
    response_types: [],
  };
  basicClient = (await registerClient(server.url, {
    ...confidential,
    token_endpoint_auth_method: 'client_secret_basic',
  })) as Client;
  postClient = (await registerClient(server.url, {
    ...confidential,
    token_endpoint_auth_method: 'client_secret_post',
  })) as Client;
  publicClient = (await registerClient(server.url, {
    redirect_uris: ['http://127.0.0.1:7311/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  })) as Client;
  assert.equal(basicClient.token_endpoint_auth_method, 'client_secret_basic');
  assert.equal(postClient.token_endpoint_auth_method, 'client_secret_post');
  publicRefreshToken = (await obtainTokens(server.url, publicClient)).tokens.refresh_token;
  assert.equal(typeof publicRefreshToken, 'string');
});
after(() => server.stop());

function basicHeader(id: string, secret: string): string {
  // RFC 6749 §2.3.1: each part form-urlencoded, then joined and base64-encoded.
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** POSTs a form to /token or /revoke, the client authenticating as `how` says. */
async function send(path: '/token' | '/revoke', client: Client, how: How, params: Record<string, string>) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const body: Record<string, string> = { ...params };
  const secret = client.client_secret ?? 'x';
  switch (how) {
    case 'basic':
      headers.authorization = basicHeader(client.client_id, secret);
      break;
    case 'basic without secret':
      headers.authorization = basicHeader(client.client_id, '');
      break;
    case 'post':
      Object.assign(body, { client_id: client.client_id, client_secret: secret });
      break;
    case 'post wrong secret':
      Object.assign(body, { client_id: client.client_id, client_secret: 'not-the-secret' });
      break;
    case 'none':
      body.client_id = client.client_id;
      break;
    case 'none with secret':
      Object.assign(body, { client_id: client.client_id, client_secret: 'x' });
      break;
    case 'basic and post':
      headers.authorization = basicHeader(client.client_id, secret);
      body.client_secret = secret;
      break;
  }
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body: new URLSearchParams(body) });
  const text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

interface Case {
  client: () => Client;
  name: string;
  how: How;
  /** 200, or the refusal. */
  expect: 200 | { status: 400 | 401; error: string };
}

const refused = (status: 400 | 401, error: string) => ({ status, error });

// Order matters only for the public client's refresh token: refusals first, the success last.
const cases: Case[] = [
  { client: () => basicClient, name: 'client_secret_basic', how: 'basic', expect: 200 },
  { client: () => basicClient, name: 'client_secret_basic', how: 'post', expect: refused(401, 'invalid_client') },
  {
    client: () => basicClient,
    name: 'client_secret_basic',
    how: 'basic and post',
    expect: refused(400, 'invalid_request'),
  },
  { client: () => postClient, name: 'client_secret_post', how: 'post', expect: 200 },
  { client: () => postClient, name: 'client_secret_post', how: 'basic', expect: refused(401, 'invalid_client') },
  {
    client: () => postClient,
    name: 'client_secret_post',
    how: 'basic and post',
    expect: refused(400, 'invalid_request'),
  },
  {
    client: () => postClient,
    name: 'client_secret_post',
    how: 'post wrong secret',
    expect: refused(401, 'invalid_client'),
  },
  { client: () => publicClient, name: 'none', how: 'none with secret', expect: refused(401, 'invalid_client') },
  { client: () => publicClient, name: 'none', how: 'basic', expect: refused(401, 'invalid_client') },
  { client: () => publicClient, name: 'none', how: 'basic without secret', expect: refused(401, 'invalid_client') },
  { client: () => publicClient, name: 'none', how: 'none', expect: 200 },
];

function check(c: Case, answer: Awaited<ReturnType<typeof send>>): void {
  const label = `${c.name} client authenticating with ${c.how}: ${JSON.stringify(answer.body)}`;
  if (c.expect === 200) {
    assert.equal(answer.status, 200, label);
    return;
  }
  assert.equal(answer.status, c.expect.status, label);
  assert.equal(answer.body.error, c.expect.error, label);
  // RFC 6749 §5.2: invalid_client after a Basic attempt MUST be 401 with a Basic challenge.
  if (c.expect.error === 'invalid_client' && c.how.startsWith('basic')) {
    assert.match(answer.challenge ?? '', /^Basic\b/, label);
  }
}

describe('the registered token_endpoint_auth_method is enforced at /token', () => {
  for (const c of cases) {
    it(`${c.name} client, ${c.how}: ${c.expect === 200 ? '200' : `${c.expect.status} ${c.expect.error}`}`, async () => {
      const client = c.client();
      // Confidential clients use client_credentials; the public client refreshes (it cannot
      // use client_credentials), with a token that refused attempts leave unspent.
      const params: Record<string, string> =
        client === publicClient
          ? { grant_type: 'refresh_token', refresh_token: publicRefreshToken }
          : { grant_type: 'client_credentials' };
      const answer = await send('/token', client, c.how, params);
      check(c, answer);
      if (answer.status === 200) assert.equal(typeof answer.body.access_token, 'string');
    });
  }

  it('refuses a confidential client that presents no credentials at all', async () => {
    // authorization_code does not require a secret of the library (PKCE); the model still refuses.
    const answer = await send('/token', basicClient, 'none', {
      grant_type: 'authorization_code',
      code: 'x',
      code_verifier: 'v'.repeat(43),
    });
    assert.equal(answer.status, 401, JSON.stringify(answer.body));
    assert.equal(answer.body.error, 'invalid_client');
  });
});

describe('the registered token_endpoint_auth_method is enforced at /revoke', () => {
  for (const c of cases) {
    it(`${c.name} client, ${c.how}: ${c.expect === 200 ? '200' : `${c.expect.status} ${c.expect.error}`}`, async () => {
      // RFC 7009 §2.2: an unknown token gets 200 once the client is authenticated.
      check(c, await send('/revoke', c.client(), c.how, { token: 'not-a-token' }));
    });
  }

  it('refuses a confidential client that presents no credentials at all', async () => {
    const answer = await send('/revoke', postClient, 'none', { token: 'not-a-token' });
    assert.equal(answer.status, 401, JSON.stringify(answer.body));
    assert.equal(answer.body.error, 'invalid_client');
  });
});

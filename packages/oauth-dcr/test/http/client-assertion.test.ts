import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OAuth2Server from '@node-oauth/oauth2-server';
import { createPrivateKeyJwtAuth } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { createRegistration, readClientCredentials, type ClientRecord, type Registration } from 'oauth-dcr';
import { memoryStore } from 'oauth-dcr/memory';
import { holdToClientAssertion, holdToRegisteredAuthMethod, oauth2ServerClients } from 'oauth-dcr/oauth2-server';
import { makeCertificate, startServer, type LocalServer, type TestCertificate } from '../net/local-https.js';

/**
 * private_key_jwt with real parts: client keys published at a jwks_uri on a local HTTPS server
 * (fetched through safe-fetch, cached, refetched once for an unknown kid), and token requests
 * through the real @node-oauth/oauth2-server, wired as holdToClientAssertion's doc comment says.
 */

const ISSUER = 'https://as.example.com';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

interface ClientKey {
  privateKey: PrivateKey;
  jwk: JWK;
}

async function clientKey(kid?: string): Promise<ClientKey> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  return { privateKey: pair.privateKey, jwk: kid === undefined ? jwk : { ...jwk, kid } };
}

let jtiCounter = 0;

function assertion(clientId: string, key: ClientKey, claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const header = key.jwk.kid === undefined ? { alg: 'ES256' } : { alg: 'ES256', kid: key.jwk.kid };
  return new SignJWT({
    iss: clientId,
    sub: clientId,
    aud: ISSUER,
    iat: now,
    exp: now + 60,
    jti: `j${++jtiCounter}`,
    ...claims,
  })
    .setProtectedHeader(header)
    .sign(key.privateKey);
}

async function registerClient(dcr: Registration, metadata: Record<string, unknown>): Promise<ClientRecord> {
  const response = await dcr(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://app.example/callback'],
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'private_key_jwt',
        ...metadata,
      }),
    }),
  );
  const body = (await response.json()) as { client_id: string };
  assert.equal(response.status, 201, JSON.stringify(body));
  return (await dcr.resolveClient(body.client_id))!;
}

describe('private_key_jwt keys from jwks_uri (safe-fetch, RFC 7517 §4.5 rotation)', () => {
  let certificate: TestCertificate | undefined;
  let server: LocalServer | undefined;
  let published: JWK[] = [];
  let fetches = 0;
  let first: ClientKey;
  let rotated: ClientKey;

  before(async () => {
    first = await clientKey('k1');
    rotated = await clientKey('k2');
    const made = makeCertificate();
    if ('skip' in made) return;
    certificate = made;
    server = await startServer(certificate, (_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=300' });
      res.end(JSON.stringify({ keys: published }));
    });
  });
  after(() => server?.close());

  /** A fresh endpoint (its own key cache and refetch clock) trusting the local test server. */
  function endpoint(loopbackAllowed = true): Registration {
    return createRegistration({
      store: memoryStore(),
      issuer: ISSUER,
      tokenEndpointAuthMethods: ['none', 'private_key_jwt'],
      allowedGrantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
      ...(loopbackAllowed ? { outboundFetch: { allowAddresses: ['127.0.0.1'], ca: certificate!.cert } } : {}),
      onError: () => {},
    });
  }

  it('verifies with the published key, fetched once and cached', async (t) => {
    if (!server) return t.skip('openssl unavailable');
    published = [first.jwk];
    fetches = 0;
    const dcr = endpoint();
    const client = await registerClient(dcr, { jwks_uri: `${server.origin}/jwks` });
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await dcr.verifyClientAssertion(await assertion(client.clientId, first), client), { ok: true });
    }
    assert.equal(fetches, 1);
  });

  it('refetches once for a kid it has not seen (a rotated key), then uses it', async (t) => {
    if (!server) return t.skip('openssl unavailable');
    published = [first.jwk];
    fetches = 0;
    const dcr = endpoint();
    const client = await registerClient(dcr, { jwks_uri: `${server.origin}/jwks` });
    assert.deepEqual(await dcr.verifyClientAssertion(await assertion(client.clientId, first), client), { ok: true });
    published = [first.jwk, rotated.jwk];
    assert.deepEqual(await dcr.verifyClientAssertion(await assertion(client.clientId, rotated), client), { ok: true });
    assert.equal(fetches, 2);
  });

  it('an unknown kid triggers exactly one refetch, however often it is sent', async (t) => {
    if (!server) return t.skip('openssl unavailable');
    published = [first.jwk];
    fetches = 0;
    const dcr = endpoint();
    const client = await registerClient(dcr, { jwks_uri: `${server.origin}/jwks` });
    const stranger = await clientKey('k9');
    for (let i = 0; i < 3; i++) {
      const verdict = await dcr.verifyClientAssertion(await assertion(client.clientId, stranger), client);
      assert.equal(verdict.ok, false);
      assert.match((verdict as { description: string }).description, /No key of the client matches/);
    }
    assert.equal(fetches, 2, 'the first load, then one refetch within the rate limit');
    // The cached keys still serve the client's real key.
    assert.deepEqual(await dcr.verifyClientAssertion(await assertion(client.clientId, first), client), { ok: true });
    assert.equal(fetches, 2);
  });

  it('refuses when the jwks_uri cannot be fetched safely (a loopback address, without the test allowance)', async (t) => {
    if (!server) return t.skip('openssl unavailable');
    published = [first.jwk];
    const dcr = endpoint(false);
    const client = await registerClient(dcr, { jwks_uri: `${server.origin}/jwks` });
    const verdict = await dcr.verifyClientAssertion(await assertion(client.clientId, first), client);
    assert.deepEqual(verdict, {
      ok: false,
      description: "The client's jwks_uri could not be loaded (blocked_address)",
    });
  });
});

describe('holdToClientAssertion with the real @node-oauth/oauth2-server', () => {
  let dcr: Registration;
  let model: ReturnType<typeof oauth2ServerClients> & Record<string, unknown>;
  let oauth: OAuth2Server;
  let key: ClientKey;
  let keyClient: ClientRecord;
  let secretClient: { client_id: string; client_secret: string };

  before(async () => {
    key = await clientKey();
    dcr = createRegistration({
      store: memoryStore(),
      issuer: ISSUER,
      tokenEndpointAuthMethods: ['none', 'client_secret_basic', 'private_key_jwt'],
      allowedGrantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
      onError: () => {},
    });
    model = {
      ...oauth2ServerClients(dcr),
      async getUserFromClient(client: OAuth2Server.Client) {
        return { id: `service:${client.id}` };
      },
      async saveToken(token: OAuth2Server.Token, client: OAuth2Server.Client, user: OAuth2Server.User) {
        return { ...token, client, user };
      },
      async getAccessToken() {
        return null;
      },
    };
    oauth = new OAuth2Server({ model: model as unknown as OAuth2Server.ClientCredentialsModel });
    keyClient = await registerClient(dcr, { jwks: { keys: [key.jwk] } });
    const response = await dcr(
      new Request(`${ISSUER}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_types: ['client_credentials'],
          response_types: [],
          token_endpoint_auth_method: 'client_secret_basic',
          jwks: { keys: [key.jwk] },
        }),
      }),
    );
    secretClient = (await response.json()) as typeof secretClient;
  });

  interface Answer {
    status: number;
    error?: string;
    description?: string;
    token?: OAuth2Server.Token;
  }

  /** A token endpoint as a host writes it, following the doc comments of the two wrappers. */
  async function tokenEndpoint(body: Record<string, string>, authorization?: string): Promise<Answer> {
    const credentials = readClientCredentials({ authorization, body });
    if (credentials.kind === 'invalid') {
      return { status: 400, error: 'invalid_request', description: credentials.description };
    }
    let form = body;
    let options: Record<string, unknown> = {};
    if (credentials.kind === 'credentials' && credentials.method === 'private_key_jwt') {
      form = { ...body, client_id: credentials.clientId };
      options = {
        model: holdToClientAssertion(model, dcr, credentials),
        requireClientAuthentication: { [body.grant_type ?? '']: false },
      };
    } else if (credentials.kind === 'credentials') {
      options = { model: holdToRegisteredAuthMethod(model, credentials.method) };
    }
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': '1',
    };
    if (authorization !== undefined) headers.authorization = authorization;
    const request = new OAuth2Server.Request({ method: 'POST', headers, query: {}, body: form });
    const response = new OAuth2Server.Response();
    try {
      const token = await oauth.token(request, response, options as OAuth2Server.TokenOptions);
      return { status: response.status ?? 200, token };
    } catch (error) {
      assert.ok(error instanceof OAuth2Server.OAuthError, `expected an OAuthError, got ${String(error)}`);
      return { status: error.code, error: error.name, description: error.message };
    }
  }

  const grant = (clientAssertion: string, extra: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: clientAssertion,
    ...extra,
  });

  it('issues a token for a good assertion, with or without client_id in the body', async () => {
    const answer = await tokenEndpoint(grant(await assertion(keyClient.clientId, key)));
    assert.equal(answer.status, 200, answer.description);
    assert.equal(answer.token?.client.id, keyClient.clientId);
    assert.equal(typeof answer.token?.accessToken, 'string');
    const withId = await tokenEndpoint(
      grant(await assertion(keyClient.clientId, key), { client_id: keyClient.clientId }),
    );
    assert.equal(withId.status, 200, withId.description);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(typeof (await dcr.store.findClient(keyClient.clientId))?.lastUsedAt, 'number');
  });

  const refusals: Array<[string, () => Promise<string>, RegExp]> = [
    ['a wrong key', async () => assertion(keyClient.clientId, await clientKey()), /signature does not verify/],
    ['aud = the token endpoint URL', () => assertion(keyClient.clientId, key, { aud: `${ISSUER}/token` }), /aud/],
    [
      'aud = [issuer, another]',
      () => assertion(keyClient.clientId, key, { aud: [ISSUER, 'https://x.example'] }),
      /aud/,
    ],
    ['an expired assertion', () => assertion(keyClient.clientId, key, { iat: 1000, exp: 1060 }), /expired/],
  ];
  for (const [name, make, reason] of refusals) {
    it(`answers 401 invalid_client for ${name}`, async () => {
      const answer = await tokenEndpoint(grant(await make()));
      assert.equal(answer.status, 401);
      assert.equal(answer.error, 'invalid_client');
      assert.match(answer.description ?? '', reason);
    });
  }

  it('answers 401 invalid_client for a replayed jti', async () => {
    const once = await assertion(keyClient.clientId, key);
    assert.equal((await tokenEndpoint(grant(once))).status, 200);
    const replay = await tokenEndpoint(grant(once));
    assert.deepEqual([replay.status, replay.error], [401, 'invalid_client']);
    assert.match(replay.description ?? '', /used before/);
  });

  it('answers 401 invalid_client to a client that registered a secret and signs an assertion', async () => {
    const answer = await tokenEndpoint(grant(await assertion(secretClient.client_id, key)));
    assert.deepEqual([answer.status, answer.error], [401, 'invalid_client']);
    assert.match(answer.description ?? '', /registered token_endpoint_auth_method client_secret_basic/);
  });

  it('answers invalid_request to an assertion with HTTP Basic', async () => {
    const basic = `Basic ${Buffer.from(`${secretClient.client_id}:${secretClient.client_secret}`).toString('base64')}`;
    const answer = await tokenEndpoint(grant(await assertion(keyClient.clientId, key)), basic);
    assert.deepEqual([answer.status, answer.error], [400, 'invalid_request']);
  });

  /** The body the MCP TypeScript SDK's client sends at /token, with its own private_key_jwt helper. */
  async function sdkTokenRequest(options: { alg: string; privateKey: unknown }): Promise<Record<string, string>> {
    const params = new URLSearchParams({ grant_type: 'client_credentials' });
    const addAuthentication = createPrivateKeyJwtAuth({
      issuer: keyClient.clientId,
      subject: keyClient.clientId,
      ...(options as { alg: string; privateKey: string | Uint8Array | Record<string, unknown> }),
    });
    // The SDK takes the audience from the authorization server's metadata: our issuer.
    await addAuthentication(new Headers(), params, `${ISSUER}/token`, {
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      response_types_supported: ['code'],
    });
    return Object.fromEntries(params);
  }

  it('issues a token for the MCP SDK’s createPrivateKeyJwtAuth, and refuses its HS256 variant', async () => {
    const privateJwk = await exportJWK(key.privateKey);
    const good = await tokenEndpoint(await sdkTokenRequest({ alg: 'ES256', privateKey: privateJwk }));
    assert.equal(good.status, 200, good.description);
    assert.equal(good.token?.client.id, keyClient.clientId);
    const symmetric = await tokenEndpoint(
      await sdkTokenRequest({ alg: 'HS256', privateKey: 'a shared secret of at least thirty-two bytes' }),
    );
    assert.deepEqual([symmetric.status, symmetric.error], [401, 'invalid_client']);
    assert.match(symmetric.description ?? '', /alg HS256 is not accepted/);
  });

  it('never lets a private_key_jwt client in without its assertion', async () => {
    const clientIdOnly = await tokenEndpoint({ grant_type: 'client_credentials', client_id: keyClient.clientId });
    assert.equal(clientIdOnly.error, 'invalid_client');
    const clients = oauth2ServerClients(dcr);
    assert.equal(await clients.getClient(keyClient.clientId, undefined), null);
    assert.equal(await clients.getClient(keyClient.clientId, 'any-secret'), null);
    assert.equal(
      (await clients.getClient(keyClient.clientId, null))?.id,
      keyClient.clientId,
      'a look-up still finds it',
    );
  });

  it('answers only the client the assertion names, and verifies it once per wrapper', async () => {
    const credentials = { clientId: keyClient.clientId, clientAssertion: await assertion(keyClient.clientId, key) };
    const held = holdToClientAssertion(model, dcr, credentials);
    assert.equal(await held.getClient(secretClient.client_id, undefined), null);
    assert.equal(await held.getClient(keyClient.clientId, 'a-secret'), null);
    const client = (await held.getClient(keyClient.clientId, undefined)) as { id: string };
    assert.equal(client.id, keyClient.clientId);
    // A second call in the same request reuses the verdict instead of replaying the jti.
    assert.equal(((await held.getClient(keyClient.clientId, undefined)) as { id: string }).id, keyClient.clientId);
  });
});

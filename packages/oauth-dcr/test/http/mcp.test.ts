import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import express from 'express';
import { exportJWK, generateKeyPair, type JWK, SignJWT, type CryptoKey } from 'jose';
import {
  createTokenVerifier,
  protectedResourceMetadataHandler,
  protectedResourceMetadataUrl,
  sameResource,
  type TokenVerifierOptions,
} from 'oauth-dcr/mcp';

/**
 * oauth-dcr/mcp's token verifier behind the MCP SDK's own `requireBearerAuth`, in a real Express
 * app over a socket. The authorization server's side is a small real HTTP server: its JWKS (keys
 * made with jose), its RFC 8414 metadata, and an RFC 7662 introspection endpoint.
 */

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

interface Key {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function makeKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

const INTROSPECTION_CLIENT = { clientId: 'mcp-server', clientSecret: 'introspection secret: with/odd&chars' };

/** The authorization server: keys, metadata and introspection, with counters. */
class AuthorizationServer {
  url = '';
  issuer = '';
  published: Key[] = [];
  jwksFetches = 0;
  metadataIssuer: string | undefined;
  /** What introspection answers, per token. */
  introspection = new Map<string, Record<string, unknown>>();
  introspectionCalls: Array<{ authorization: string | undefined; body: URLSearchParams }> = [];
  #server = createServer(async (req, res) => {
    if (req.url === '/jwks') {
      this.jwksFetches++;
      return sendJson(res, 200, { keys: this.published.map((key) => key.jwk) });
    }
    if (req.url === '/.well-known/oauth-authorization-server') {
      return sendJson(res, 200, { issuer: this.metadataIssuer ?? this.issuer, jwks_uri: `${this.url}/jwks` });
    }
    if (req.url === '/introspect' && req.method === 'POST') {
      const body = new URLSearchParams(await readBody(req));
      this.introspectionCalls.push({ authorization: req.headers.authorization, body });
      const expected = `Basic ${Buffer.from(
        `${encodeURIComponent(INTROSPECTION_CLIENT.clientId)}:${encodeURIComponent(INTROSPECTION_CLIENT.clientSecret)}`,
      ).toString('base64')}`;
      if (req.headers.authorization !== expected) return sendJson(res, 401, { error: 'invalid_client' });
      return sendJson(res, 200, this.introspection.get(body.get('token') ?? '') ?? { active: false });
    }
    sendJson(res, 404, { error: 'invalid_request' });
  });
  async start(): Promise<void> {
    this.url = await listen(this.#server);
    this.issuer = this.url;
  }
  stop(): Promise<void> {
    return stop(this.#server);
  }
}

const as = new AuthorizationServer();
let signingKey: Key;
let mcp: Server;
let mcpOrigin: string;
let resource: string;
const now = () => Math.floor(Date.now() / 1000);

/** An RFC 9068 access token; `claims` and `header` override the defaults, `undefined` removes a claim. */
function accessToken(
  claims: Record<string, unknown> = {},
  { key = signingKey, header = {} }: { key?: Key; header?: Record<string, unknown> } = {},
): Promise<string> {
  const payload: Record<string, unknown> = {
    iss: as.issuer,
    aud: resource,
    sub: 'alice',
    client_id: 'client-1',
    scope: 'mcp:tools',
    iat: now(),
    exp: now() + 600,
    jti: crypto.randomUUID(),
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** Mounts a verifier the way the example MCP server does, at /<name>, and returns its URL. */
const mounts = new Map<string, TokenVerifierOptions>();
function protect(name: string, options: Partial<TokenVerifierOptions> = {}): string {
  mounts.set(name, { issuer: as.issuer, resource, jwksUri: `${as.url}/jwks`, keyRefetchCooldown: 0, ...options });
  return `${mcpOrigin}/${name}`;
}

async function call(url: string, token?: string) {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '', body: JSON.parse(text) };
}

before(async () => {
  await as.start();
  signingKey = await makeKey('key-1');
  as.published = [signingKey];
  // The MCP server: one Express app, one requireBearerAuth per verifier configuration.
  const app = express();
  const routers = new Map<string, express.RequestHandler>();
  mcp = createServer(app);
  mcpOrigin = await listen(mcp);
  resource = `${mcpOrigin}/mcp`;
  const metadataUrl = protectedResourceMetadataUrl(resource);
  app.all(
    metadataUrl.pathname,
    protectedResourceMetadataHandler({
      resource,
      authorizationServers: [as.issuer],
      scopesSupported: ['mcp:tools'],
      resourceName: 'Test MCP server',
    }),
  );
  app.use('/:name', (req, res, next) => {
    const name = String(req.params.name);
    const options = mounts.get(name);
    if (!options) return next();
    let handler = routers.get(name);
    if (!handler) {
      const auth = requireBearerAuth({
        verifier: createTokenVerifier(options),
        requiredScopes: ['mcp:tools'],
        resourceMetadataUrl: metadataUrl.href,
      });
      handler = (rq, rs, nx) =>
        auth(rq, rs, (error?: unknown) => (error ? nx(error) : rs.json((rq as { auth?: unknown }).auth)));
      routers.set(name, handler);
    }
    handler(req, res, next);
  });
});

after(async () => {
  await stop(mcp);
  await as.stop();
});

describe('createTokenVerifier with JWT access tokens, behind requireBearerAuth', () => {
  it('accepts a token for this resource and hands the SDK its client, scopes, expiry and resource', async () => {
    const url = protect('jwt');
    const token = await accessToken({ scope: 'mcp:tools files:read' });
    const { status, body } = await call(url, token);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.token, token);
    assert.equal(body.clientId, 'client-1');
    assert.deepEqual(body.scopes, ['mcp:tools', 'files:read']);
    assert.equal(typeof body.expiresAt, 'number');
    assert.equal(body.resource, resource);
    assert.equal(body.extra.subject, 'alice');
  });

  it('answers a request without a token with 401 and the resource metadata URL (RFC 9728 §5.1)', async () => {
    const { status, challenge, body } = await call(protect('jwt'));
    assert.equal(status, 401);
    assert.equal(body.error, 'invalid_token');
    assert.match(challenge, /^Bearer /);
    assert.ok(
      challenge.includes(`resource_metadata="${mcpOrigin}/.well-known/oauth-protected-resource/mcp"`),
      challenge,
    );
  });

  it('accepts an audience array naming this resource, and the SDK client form with a trailing slash', async () => {
    const url = protect('jwt');
    assert.equal((await call(url, await accessToken({ aud: ['https://other.example/mcp', resource] }))).status, 200);
    assert.equal((await call(url, await accessToken({ aud: `${resource}/` }))).status, 200);
  });

  const refused: Array<[string, () => Promise<string>]> = [
    ['a token for another MCP server (aud)', () => accessToken({ aud: 'https://other.example/mcp' })],
    ['a token whose aud is a prefix of this resource', () => accessToken({ aud: `${mcpOrigin}/` })],
    ['a token from another issuer', () => accessToken({ iss: 'https://evil.example' })],
    ['an expired token', () => accessToken({ iat: now() - 7200, exp: now() - 3600 })],
    [
      'a token with typ JWT (an ID token or a client assertion, not an access token)',
      () => accessToken({}, { header: { typ: 'JWT' } }),
    ],
    ['a token without jti (RFC 9068 §2.2 required claims)', () => accessToken({ jti: undefined })],
    ['a token without client_id', () => accessToken({ client_id: undefined })],
    ['a token without exp', () => accessToken({ exp: undefined })],
    [
      'a token signed by a key the issuer does not publish',
      async () => accessToken({}, { key: { ...(await makeKey('key-1')) } }),
    ],
    [
      'an unsigned token (alg none)',
      async () => {
        const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const claims = {
          iss: as.issuer,
          aud: resource,
          sub: 'a',
          client_id: 'c',
          iat: now(),
          exp: now() + 60,
          jti: 'j',
        };
        return `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode(claims)}.`;
      },
    ],
    [
      'a token signed with HS256 using the public key as the secret',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(signingKey.jwk));
        return new SignJWT({ iss: as.issuer, aud: resource, sub: 'a', client_id: 'c', jti: 'j' })
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: signingKey.kid })
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(secret);
      },
    ],
    ['a malformed token', async () => 'not.a.jwt'],
  ];
  for (const [title, make] of refused) {
    it(`refuses ${title} with 401 invalid_token`, async () => {
      const { status, challenge, body } = await call(protect('jwt'), await make());
      assert.equal(status, 401, JSON.stringify(body));
      assert.equal(body.error, 'invalid_token');
      assert.match(challenge, /error="invalid_token"/);
      assert.match(challenge, /resource_metadata="/);
    });
  }

  it('answers a token without the needed scope with 403 insufficient_scope naming the scope', async () => {
    const { status, challenge, body } = await call(protect('jwt'), await accessToken({ scope: 'files:read' }));
    assert.equal(status, 403);
    assert.equal(body.error, 'insufficient_scope');
    assert.match(challenge, /scope="mcp:tools"/);
  });

  it('fetches the keys again for an unknown kid, so a rotated key works at once', async () => {
    const url = protect('rotation', { keyRefetchCooldown: 0 });
    assert.equal((await call(url, await accessToken())).status, 200);
    const fetches = as.jwksFetches;
    const next = await makeKey('key-2');
    as.published = [signingKey, next];
    assert.equal((await call(url, await accessToken({}, { key: next }))).status, 200);
    assert.equal(as.jwksFetches, fetches + 1, 'one refetch for the new kid');
    assert.equal((await call(url, await accessToken({}, { key: next }))).status, 200);
    assert.equal(as.jwksFetches, fetches + 1, 'then served from the cache');
    as.published = [signingKey];
  });

  it('does not refetch for unknown kids within the cooldown', async () => {
    const url = protect('cooldown', { keyRefetchCooldown: 60 });
    assert.equal((await call(url, await accessToken())).status, 200);
    const fetches = as.jwksFetches;
    for (let i = 0; i < 3; i++) {
      assert.equal((await call(url, await accessToken({}, { key: await makeKey(`forged-${i}`) }))).status, 401);
    }
    assert.equal(as.jwksFetches, fetches);
  });

  it('discovers jwks_uri from the issuer metadata when none is configured', async () => {
    const url = protect('discovered', { jwksUri: undefined });
    assert.equal((await call(url, await accessToken())).status, 200);
  });

  it('refuses metadata that names another issuer (RFC 8414 §3.3): a JSON 500, never a token accepted', async () => {
    as.metadataIssuer = 'https://impostor.example';
    try {
      const { status, body } = await call(protect('impostor', { jwksUri: undefined }), await accessToken());
      assert.equal(status, 500);
      assert.equal(body.error, 'server_error');
    } finally {
      as.metadataIssuer = undefined;
    }
  });

  it('answers JSON 500 server_error when the keys cannot be fetched', async () => {
    const { status, body } = await call(protect('no-keys', { jwksUri: `${as.url}/missing` }), await accessToken());
    assert.equal(status, 500);
    assert.equal(body.error, 'server_error');
  });

  it('refuses configurations that could accept forged or misdirected tokens', () => {
    const base = { issuer: as.issuer, resource };
    assert.throws(() => createTokenVerifier({ ...base, algorithms: ['HS256'] }), TypeError);
    // From plain JavaScript, a missing issuer would otherwise turn the issuer check off.
    assert.throws(() => createTokenVerifier({ ...base, issuer: undefined as unknown as string }), TypeError);
    assert.throws(() => createTokenVerifier({ ...base, issuer: '' }), TypeError);
    assert.throws(() => createTokenVerifier({ ...base, algorithms: ['none'] }), TypeError);
    assert.throws(() => createTokenVerifier({ ...base, resource: `${resource}#x` }), TypeError);
    assert.throws(() => createTokenVerifier({ ...base, resource: '/mcp' }), TypeError);
    assert.throws(
      () =>
        createTokenVerifier({
          ...base,
          jwksUri: `${as.url}/jwks`,
          introspection: { endpoint: `${as.url}/i`, ...INTROSPECTION_CLIENT },
        }),
      TypeError,
    );
  });
});

describe('createTokenVerifier with introspection (RFC 7662)', () => {
  const introspected = (token: string, answer: Record<string, unknown>) => as.introspection.set(token, answer);
  const active = () => ({
    active: true,
    client_id: 'client-2',
    scope: 'mcp:tools',
    exp: now() + 600,
    aud: resource,
    iss: as.issuer,
    sub: 'bob',
  });

  it('asks the endpoint with client_secret_basic and accepts an active token for this resource', async () => {
    const url = protect('introspect', {
      jwksUri: undefined,
      introspection: { endpoint: `${as.url}/introspect`, ...INTROSPECTION_CLIENT },
    });
    introspected('opaque-1', active());
    const { status, body } = await call(url, 'opaque-1');
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.clientId, 'client-2');
    assert.equal(body.extra.subject, 'bob');
    const last = as.introspectionCalls.at(-1)!;
    assert.equal(last.body.get('token'), 'opaque-1');
    assert.equal(last.body.get('token_type_hint'), 'access_token');
  });

  const refused: Array<[string, Record<string, unknown>]> = [
    ['an inactive token', { active: false }],
    ['a token for another resource', { ...active(), aud: 'https://other.example/mcp' }],
    ['a token without an audience', { ...active(), aud: undefined }],
    ['a token without expiry', { ...active(), exp: undefined }],
    ['an expired token', { ...active(), exp: now() - 10 }],
    ['a token from another issuer', { ...active(), iss: 'https://evil.example' }],
    ['"active": "true" as a string', { ...active(), active: 'true' }],
  ];
  for (const [title, answer] of refused) {
    it(`refuses ${title} with 401`, async () => {
      const url = protect('introspect', {
        jwksUri: undefined,
        introspection: { endpoint: `${as.url}/introspect`, ...INTROSPECTION_CLIENT },
      });
      const token = `opaque-${crypto.randomUUID()}`;
      introspected(token, JSON.parse(JSON.stringify(answer)));
      const { status, body } = await call(url, token);
      assert.equal(status, 401, JSON.stringify(body));
      assert.equal(body.error, 'invalid_token');
    });
  }

  it('answers JSON 500 when its own introspection credentials are refused', async () => {
    const url = protect('introspect-wrong', {
      jwksUri: undefined,
      introspection: { endpoint: `${as.url}/introspect`, clientId: 'mcp-server', clientSecret: 'wrong' },
    });
    introspected('opaque-2', active());
    const { status, body } = await call(url, 'opaque-2');
    assert.equal(status, 500);
    assert.equal(body.error, 'server_error');
  });
});

describe('protected resource metadata (RFC 9728)', () => {
  it('lives at the well-known path inserted before the resource path (§3.1)', () => {
    assert.equal(
      protectedResourceMetadataUrl('https://mcp.example.com/mcp').href,
      'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
    );
    assert.equal(
      protectedResourceMetadataUrl('https://mcp.example.com').href,
      'https://mcp.example.com/.well-known/oauth-protected-resource',
    );
    assert.equal(
      protectedResourceMetadataUrl('https://mcp.example.com:8443/tenant/a/mcp').href,
      'https://mcp.example.com:8443/.well-known/oauth-protected-resource/tenant/a/mcp',
    );
  });

  it('serves the document with resource equal to the URL clients use, header bearer only, CORS open', async () => {
    const response = await fetch(protectedResourceMetadataUrl(resource), {
      headers: { origin: 'https://app.example' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), {
      resource,
      authorization_servers: [as.issuer],
      scopes_supported: ['mcp:tools'],
      bearer_methods_supported: ['header'],
      resource_name: 'Test MCP server',
    });
  });

  it('answers a preflight with 204 and another method with 405 JSON', async () => {
    const url = protectedResourceMetadataUrl(resource);
    assert.equal((await fetch(url, { method: 'OPTIONS' })).status, 204);
    const post = await fetch(url, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD, OPTIONS');
    assert.equal(((await post.json()) as { error: string }).error, 'invalid_request');
  });

  it('compares resources as the SDK does: fragment and one trailing slash aside, nothing else', () => {
    assert.ok(sameResource('https://h/mcp', 'https://h/mcp/'));
    assert.ok(sameResource('HTTPS://H/mcp', 'https://h/mcp'));
    assert.ok(sameResource('https://h', 'https://h/'));
    assert.ok(!sameResource('https://h/mcp', 'https://h/mcp2'));
    assert.ok(!sameResource('https://h/', 'https://h/mcp'));
    assert.ok(!sameResource('not a url', 'not a url'));
  });
});

describe('createTokenVerifier: the cache of verified JWTs', () => {
  const options = (extra: Partial<TokenVerifierOptions> = {}): TokenVerifierOptions => ({
    issuer: as.issuer,
    resource,
    jwksUri: `${as.url}/jwks`,
    keyRefetchCooldown: 0,
    ...extra,
  });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Publishes `key` beside the default one for the length of `body`. */
  async function withKey(body: (key: Key) => Promise<void>): Promise<void> {
    const key = await makeKey(`cache-${crypto.randomUUID()}`);
    as.published = [signingKey, key];
    try {
      await body(key);
    } finally {
      as.published = [signingKey];
    }
  }

  /**
   * Drops every key but the default one from the JWKS and makes `verify` fetch it again (a token
   * with an unknown kid does, the cooldown being 0): from then on only the cache can accept a
   * token signed by a dropped key.
   */
  async function retireKeys(verify: (token: string) => Promise<unknown>): Promise<void> {
    as.published = [signingKey];
    const fetches = as.jwksFetches;
    await assert.rejects(verify(await accessToken({}, { key: await makeKey('never-published') })), InvalidTokenError);
    assert.equal(as.jwksFetches, fetches + 1, 'the verifier holds the JWKS without the retired key');
  }

  it('verifies a reused token once: it still works after its key is retired, a first-seen one does not', async () => {
    await withKey(async (key) => {
      const url = protect('cached');
      const reused = await accessToken({}, { key });
      const first = await call(url, reused);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      await retireKeys(async (token) => {
        const { status, body } = await call(url, token);
        if (status === 401) throw new InvalidTokenError(body.error_description);
      });
      const again = await call(url, reused);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body, first.body);
      const firstSeen = await call(url, await accessToken({}, { key }));
      assert.equal(firstSeen.status, 401);
      assert.equal(firstSeen.body.error, 'invalid_token');
    });
  });

  it('hands every call its own result: a caller changing one cannot change the next', async () => {
    const verifier = createTokenVerifier(options());
    const token = await accessToken({ scope: 'mcp:tools' });
    const first = await verifier.verifyAccessToken(token);
    first.scopes.push('admin');
    first.extra.subject = 'mallory';
    first.resource.pathname = '/elsewhere';
    assert.throws(() => {
      first.extra.claims.scope = 'admin';
    }, TypeError);
    const second = await verifier.verifyAccessToken(token);
    assert.notEqual(second, first);
    assert.equal(second.token, token);
    assert.deepEqual(second.scopes, ['mcp:tools']);
    assert.equal(second.extra.subject, 'alice');
    assert.equal(second.resource.href, resource);
    assert.equal(second.extra.claims.scope, 'mcp:tools');
  });

  it('refuses a cached token as soon as its exp passes', async () => {
    const verifier = createTokenVerifier(options());
    const exp = now() + 2;
    const token = await accessToken({ exp });
    assert.equal((await verifier.verifyAccessToken(token)).expiresAt, exp);
    await sleep(exp * 1000 - Date.now() + 50);
    await assert.rejects(verifier.verifyAccessToken(token), InvalidTokenError);
  });

  it('keeps a token at most verifiedTokenCacheSeconds: a retired key stops working then', async () => {
    await withKey(async (key) => {
      const verifier = createTokenVerifier(options({ verifiedTokenCacheSeconds: 1 }));
      const reused = await accessToken({}, { key });
      const verifiedAt = Date.now();
      await verifier.verifyAccessToken(reused);
      await retireKeys((token) => verifier.verifyAccessToken(token));
      assert.ok(Date.now() - verifiedAt < 900, 'still within the cache time');
      assert.equal((await verifier.verifyAccessToken(reused)).token, reused);
      await sleep(verifiedAt + 1100 - Date.now());
      await assert.rejects(verifier.verifyAccessToken(reused), InvalidTokenError);
    });
  });

  for (const disabled of [{ verifiedTokenCacheSeconds: 0 }, { verifiedTokenCacheSize: 0 }]) {
    it(`verifies every call with ${JSON.stringify(disabled)}`, async () => {
      await withKey(async (key) => {
        const verifier = createTokenVerifier(options(disabled));
        const reused = await accessToken({}, { key });
        await verifier.verifyAccessToken(reused);
        await retireKeys((token) => verifier.verifyAccessToken(token));
        await assert.rejects(verifier.verifyAccessToken(reused), InvalidTokenError);
      });
    });
  }

  it('never caches a failure: a token refused before its key is published works once it is', async () => {
    const verifier = createTokenVerifier(options());
    const key = await makeKey(`cache-${crypto.randomUUID()}`);
    const token = await accessToken({}, { key });
    await assert.rejects(verifier.verifyAccessToken(token), InvalidTokenError);
    await assert.rejects(verifier.verifyAccessToken(token), InvalidTokenError);
    as.published = [signingKey, key];
    try {
      assert.equal((await verifier.verifyAccessToken(token)).token, token);
    } finally {
      as.published = [signingKey];
    }
  });

  it('forgets the least recently used token beyond verifiedTokenCacheSize', async () => {
    await withKey(async (key) => {
      const verifier = createTokenVerifier(options({ verifiedTokenCacheSize: 2 }));
      const [a, b, c] = await Promise.all([
        accessToken({}, { key }),
        accessToken({}, { key }),
        accessToken({}, { key }),
      ]);
      await verifier.verifyAccessToken(a);
      await verifier.verifyAccessToken(b);
      await verifier.verifyAccessToken(a); // a is now the most recently used
      await verifier.verifyAccessToken(c); // so b goes
      await retireKeys((token) => verifier.verifyAccessToken(token));
      assert.equal((await verifier.verifyAccessToken(a)).token, a);
      assert.equal((await verifier.verifyAccessToken(c)).token, c);
      await assert.rejects(verifier.verifyAccessToken(b), InvalidTokenError);
    });
  });

  it('refuses cache settings that make no sense, and any with introspection (never cached)', () => {
    const base = { issuer: as.issuer, resource, jwksUri: `${as.url}/jwks` };
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '60' as unknown as number]) {
      assert.throws(() => createTokenVerifier({ ...base, verifiedTokenCacheSeconds: bad }), TypeError);
    }
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(() => createTokenVerifier({ ...base, verifiedTokenCacheSize: bad }), TypeError);
    }
    const introspection = { endpoint: `${as.url}/introspect`, ...INTROSPECTION_CLIENT };
    assert.throws(
      () => createTokenVerifier({ issuer: as.issuer, resource, introspection, verifiedTokenCacheSeconds: 60 }),
      TypeError,
    );
  });

  it('asks the introspection endpoint on every call: a revoked token is refused at once', async () => {
    const verifier = createTokenVerifier({
      issuer: as.issuer,
      resource,
      introspection: { endpoint: `${as.url}/introspect`, ...INTROSPECTION_CLIENT },
    });
    const token = `opaque-${crypto.randomUUID()}`;
    as.introspection.set(token, { active: true, client_id: 'c', exp: now() + 600, aud: resource, iss: as.issuer });
    assert.equal((await verifier.verifyAccessToken(token)).token, token);
    as.introspection.set(token, { active: false });
    await assert.rejects(verifier.verifyAccessToken(token), InvalidTokenError);
  });
});

/**
 * RFC 9068 JWT access tokens as a separate resource server sees them (checklist test 7): verified
 * with jose against the JWK Set at the metadata's jwks_uri, nothing else. The signing key lives
 * in the database: a restart on the same SQLite file keeps it, and `keys rotate` leaves tokens
 * signed by the old key verifiable.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { runCommand } from '../../src/commands.js';
import { registerClient, tokenRequest } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';
import { authorizeFor, exchangeCode, registerPublicClient } from '../support/resource-flow.js';

const MCP = 'https://mcp.example/mcp';

async function jwksOf(baseUrl: string): Promise<JSONWebKeySet> {
  const metadata = (await (await fetch(`${baseUrl}/.well-known/oauth-authorization-server`)).json()) as {
    jwks_uri: string;
  };
  const response = await fetch(metadata.jwks_uri);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  return (await response.json()) as JSONWebKeySet;
}

async function tokenFor(baseUrl: string, scope?: string): Promise<Record<string, any>> {
  const client = await registerPublicClient(baseUrl);
  const { back, verifier } = await authorizeFor(baseUrl, client, { resources: [MCP], ...(scope ? { scope } : {}) });
  const token = await exchangeCode(baseUrl, client, back, verifier);
  assert.equal(token.status, 200, JSON.stringify(token.body));
  return { ...token.body, client_id: client.client_id };
}

describe('JWT access tokens (RFC 9068)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      env: { DCR_SCOPES: 'read,write', DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials' },
    });
  });
  after(() => server.stop());

  it('is an at+jwt whose kid is at jwks_uri, with every RFC 9068 §2.2 claim, verified by jose', async () => {
    const token = await tokenFor(server.url, 'read');
    const header = decodeProtectedHeader(token.access_token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'ES256');
    const jwks = await jwksOf(server.url);
    assert.ok(
      jwks.keys.some((key) => key.kid === header.kid),
      'the signing key is published',
    );
    for (const key of jwks.keys) assert.equal(key.d, undefined, 'no private member is ever published');
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as {
      jwks_uri: string;
    };
    const { payload } = await jwtVerify(token.access_token, createRemoteJWKSet(new URL(metadata.jwks_uri)), {
      issuer: server.url,
      audience: MCP,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    assert.equal(payload.client_id, token.client_id);
    assert.equal(payload.scope, 'read');
    assert.equal(typeof payload.sub, 'string');
    assert.notEqual(payload.sub, token.client_id, 'sub is the user');
    assert.equal(typeof payload.jti, 'string');
    assert.equal(payload.exp! - payload.iat!, 3600);
    assert.ok(Math.abs(token.expires_in - 3600) <= 1, 'expires_in agrees with exp');
  });

  it('client_credentials: sub is the client itself, aud the requested resource', async () => {
    const client = await registerClient(server.url, {
      client_name: 'Service',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const response = await tokenRequest(
      server.url,
      { grant_type: 'client_credentials', resource: MCP },
      { id: client.client_id, secret: client.client_secret },
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const { payload } = await jwtVerify(response.body.access_token, createLocalJWKSet(await jwksOf(server.url)), {
      issuer: server.url,
      audience: MCP,
      typ: 'at+jwt',
    });
    assert.equal(payload.sub, client.client_id);
    const unknown = await tokenRequest(
      server.url,
      { grant_type: 'client_credentials', resource: 'ftp://files.example/' },
      { id: client.client_id, secret: client.client_secret },
    );
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'invalid_target');
  });
});

describe('signing keys in the database', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-keys-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('survive a restart on the same SQLite file; keys rotate keeps old tokens verifiable', async () => {
    const env = { DATABASE_PATH: join(dir, 'keys.db'), DCR_SIGNING_KEY_SECRET: 'a-long-random-test-secret-0123456789' };
    let server = await startTestServer({ env });
    const before = await tokenFor(server.url);
    const firstKid = decodeProtectedHeader(before.access_token).kid;
    await server.stop();

    server = await startTestServer({ env });
    try {
      const restarted = await tokenFor(server.url);
      assert.equal(decodeProtectedHeader(restarted.access_token).kid, firstKid, 'the same key after a restart');
      await jwtVerify(before.access_token, createLocalJWKSet(await jwksOf(server.url)), { audience: MCP });
    } finally {
      await server.stop();
    }

    const lines: string[] = [];
    const output = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
    await runCommand({ positionals: ['keys', 'rotate'], flags: {}, env: { ...env, LOG_LEVEL: 'silent' }, output });
    assert.match(lines.join('\n'), /new signing key/);
    assert.match(lines.join('\n'), new RegExp(`${firstKid}.*retired; published until`));

    server = await startTestServer({ env });
    try {
      const rotated = await tokenFor(server.url);
      const newKid = decodeProtectedHeader(rotated.access_token).kid;
      assert.notEqual(newKid, firstKid, 'the new key signs');
      const jwks = createLocalJWKSet(await jwksOf(server.url));
      await jwtVerify(rotated.access_token, jwks, { audience: MCP });
      await jwtVerify(before.access_token, jwks, { audience: MCP }); // the old key is still published
    } finally {
      await server.stop();
    }

    // Sealed at rest: without the secret the keys cannot be used, and the server says why.
    await assert.rejects(startTestServer({ env: { DATABASE_PATH: env.DATABASE_PATH } }), /DCR_SIGNING_KEY_SECRET/);
  });
});

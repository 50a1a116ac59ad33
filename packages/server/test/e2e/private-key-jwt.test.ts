/**
 * private_key_jwt (RFC 7523 §2.2) through the reference server: a client registered with its
 * public key authenticates with a signed assertion at /token, /revoke and /introspect. The
 * assertion's rules are the library's (tested there); here: that every endpoint uses them, that
 * a jti is single use through the server's database, and the errors each endpoint answers.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { tokenRequest } from '../support/oauth-flow.js';
import { introspect, startWithIntrospector, type IntrospectingServer } from '../support/resource-flow.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MCP = 'https://mcp.example/mcp';

describe('private_key_jwt at /token, /revoke and /introspect', () => {
  let running: IntrospectingServer;
  let url: string;
  let privateKey: CryptoKey;
  let clientId: string;

  const assertion = (claims: { aud?: string | string[]; jti?: string } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(claims.aud ?? url)
      .setJti(claims.jti ?? randomUUID())
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(privateKey);
  const form = async (params: Record<string, string>, claims?: Parameters<typeof assertion>[0]) => ({
    ...params,
    client_assertion_type: JWT_BEARER,
    client_assertion: await assertion(claims),
  });

  before(async () => {
    const keys = await generateKeyPair('ES256', { extractable: true });
    privateKey = keys.privateKey;
    const publicJwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    // The MCP server's own client authenticates with its key, and is the listed introspector.
    running = await startWithIntrospector(
      { DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials' },
      (id) => id,
      {
        client_name: 'MCP server with a key',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [publicJwk] },
      },
    );
    url = running.server.url;
    clientId = running.introspector.client_id;
  });
  after(() => running?.stop());

  it('the metadata lists private_key_jwt and asymmetric assertion algorithms', async () => {
    const metadata = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      string[]
    >;
    assert.ok(metadata.token_endpoint_auth_methods_supported!.includes('private_key_jwt'));
    assert.ok(metadata.introspection_endpoint_auth_methods_supported!.includes('private_key_jwt'));
    assert.ok(metadata.token_endpoint_auth_signing_alg_values_supported!.includes('ES256'));
  });

  it('a good assertion gets a token; the same assertion again is 401 invalid_client (jti used once)', async () => {
    const params = await form({ grant_type: 'client_credentials', resource: MCP });
    const first = await tokenRequest(url, params);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.headers.get('cache-control'), 'no-store');
    const replay = await tokenRequest(url, params);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, 'invalid_client');
  });

  it('refuses an assertion whose aud is the token endpoint (RFC 10070), and one sent with a secret too', async () => {
    const wrongAudience = await tokenRequest(
      url,
      await form({ grant_type: 'client_credentials' }, { aud: `${url}/token` }),
    );
    assert.equal(wrongAudience.status, 401);
    assert.equal(wrongAudience.body.error, 'invalid_client');
    const twoMethods = await tokenRequest(url, await form({ grant_type: 'client_credentials' }), {
      id: clientId,
      secret: 'anything',
    });
    assert.equal(twoMethods.status, 400);
    assert.equal(twoMethods.body.error, 'invalid_request');
  });

  it('introspects and revokes with an assertion, and refuses a replayed one at /introspect', async () => {
    const issued = await tokenRequest(url, await form({ grant_type: 'client_credentials', resource: MCP }));
    const token: string = issued.body.access_token;
    const introspection = await form({ token });
    const post = (path: string, body: Record<string, string>) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
      });
    const active = await post('/introspect', introspection);
    assert.equal(active.status, 200);
    assert.equal(((await active.json()) as { active: boolean }).active, true);
    const replayed = await post('/introspect', introspection);
    assert.equal(replayed.status, 401);

    const revoked = await post('/revoke', await form({ token }));
    assert.equal(revoked.status, 200);
    const after = await post('/introspect', await form({ token }));
    assert.deepEqual(await after.json(), { active: false });
    // A caller without any authentication learns nothing.
    assert.equal((await introspect(url, token)).status, 401);
  });
});

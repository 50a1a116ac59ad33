import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OAuth2Server from '@node-oauth/oauth2-server';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import type { Registration } from 'oauth-dcr';
import { holdToClientAssertion, oauth2ServerClients } from 'oauth-dcr/oauth2-server';
import { fixtureDocument, skip, startDocumentServer, type DocumentServer } from '../cimd/harness.js';

/**
 * A Client ID Metadata Document client that authenticates with private_key_jwt (ChatGPT's
 * document: RS256, keys at jwks_uri; CIMD checklist items 17 and 28, test 9). The document and
 * its keys are served over HTTPS from a local test CA, and the client is resolved, verified and
 * answered through the oauth2-server model as at /token.
 */

const ISSUER = 'https://as.example.com';
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

describe('private_key_jwt for a Client ID Metadata Document client', { skip }, () => {
  let server: DocumentServer;
  let dcr: Registration;
  let clientId: string;
  let privateKey: PrivateKey;
  let publicJwk: JWK;

  before(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'chatgpt-1', alg: 'RS256', use: 'sig' };
    server = await startDocumentServer();
    const jwksUri = server.serve('/oauth/jwks.json', { keys: [publicJwk] });
    clientId = `${server.origin}/oauth/client.json`;
    server.serve('/oauth/client.json', { ...fixtureDocument('chatgpt', clientId), jwks_uri: jwksUri });
    dcr = server.registration({ tokenEndpointAuthMethods: ['none', 'private_key_jwt'] });
  });
  after(() => server?.close());

  let jti = 0;
  function assertion(claims: JWTPayload = {}, key: PrivateKey = privateKey): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: clientId,
      sub: clientId,
      aud: ISSUER,
      iat: now,
      exp: now + 300,
      jti: `c${++jti}`,
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'chatgpt-1', typ: 'JWT' })
      .sign(key);
  }

  /** What the token endpoint's getClient answers for this assertion: the client, or the error. */
  async function tokenClient(clientAssertion: string): Promise<{ id: string } | OAuth2Server.OAuthError | null> {
    const held = holdToClientAssertion(oauth2ServerClients(dcr), dcr, { clientId, clientAssertion });
    try {
      return (await held.getClient(clientId, undefined)) as { id: string } | null;
    } catch (error) {
      assert.ok(error instanceof OAuth2Server.OAuthError, String(error));
      return error;
    }
  }

  function assertRefused(answer: unknown, reason: RegExp): void {
    assert.ok(answer instanceof OAuth2Server.InvalidClientError, `expected invalid_client, got ${String(answer)}`);
    assert.equal(answer.code, 401);
    assert.match(answer.message, reason);
  }

  it('resolves to private_key_jwt with the document’s keys, and a good assertion authenticates it', async () => {
    const client = (await dcr.resolveClient(clientId))!;
    assert.equal(client.registeredVia, 'metadata_document');
    assert.equal(client.metadata.token_endpoint_auth_method, 'private_key_jwt');
    const answer = await tokenClient(await assertion());
    assert.equal((answer as { id: string }).id, clientId);
  });

  it('refuses a bad signature, a wrong aud and a replayed jti with 401 invalid_client', async () => {
    const stranger = (await generateKeyPair('RS256')).privateKey;
    assertRefused(await tokenClient(await assertion({}, stranger)), /signature does not verify/);
    assertRefused(await tokenClient(await assertion({ aud: `${ISSUER}/token` })), /aud must be exactly/);
    const once = await assertion();
    assert.equal(((await tokenClient(once)) as { id: string }).id, clientId);
    assertRefused(await tokenClient(once), /used before/);
  });

  it('refuses an algorithm other than the document’s token_endpoint_auth_signing_alg', async () => {
    const ec = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const es256 = await new SignJWT({ iss: clientId, sub: clientId, aud: ISSUER, iat: now, exp: now + 60, jti: 'es' })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(ec.privateKey);
    assertRefused(await tokenClient(es256), /registered token_endpoint_auth_signing_alg RS256/);
  });

  it('gives the client no way in without an assertion', async () => {
    const clients = oauth2ServerClients(dcr);
    assert.equal(await clients.getClient(clientId, undefined), null);
    assert.equal(await clients.getClient(clientId, 'a-secret'), null);
  });
});

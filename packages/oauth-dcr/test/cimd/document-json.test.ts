/**
 * A fetched Client ID Metadata Document becomes client metadata as a request body does: the same
 * prototype-poisoning keys are dropped and the same depth limit holds (core/request.ts
 * sanitizeJson). And a document may declare attestation-based client authentication when the
 * deployment accepts it, since that method rests on an attester's key, not a shared secret.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import type { Registration } from 'oauth-dcr';
import { makeAttester } from '../support/attestation-jwts.js';
import {
  found,
  lookUpFresh,
  minimalDocument,
  refusedWith,
  skip,
  startDocumentServer,
  type DocumentServer,
} from './harness.js';

const POISON = ['__proto__', 'constructor', 'prototype'];

/** Every own key at every depth, to show none of the poisoning ones survived. */
function ownKeysDeep(value: unknown, keys = new Set<string>()): Set<string> {
  if (typeof value !== 'object' || value === null) return keys;
  for (const key of Object.keys(value)) {
    keys.add(key);
    ownKeysDeep((value as Record<string, unknown>)[key], keys);
  }
  return keys;
}

describe('Client ID Metadata Documents as JSON', { skip }, () => {
  let server: DocumentServer;
  let dcr: Registration;
  before(async () => {
    server = await startDocumentServer();
    dcr = server.registration();
  });
  after(() => server?.close());
  beforeEach(() => server.reset());

  it('drops __proto__, constructor and prototype keys at every depth', async () => {
    // The JWK Set is kept as sent, member by member, so keys inside it reach the stored metadata.
    const { publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    // Own properties, as JSON.parse makes them (an object literal would set the prototype).
    const poison = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"prototype":2}');
    const withKeys = server.registration({ tokenEndpointAuthMethods: ['none', 'private_key_jwt'] });
    const client = found(
      await lookUpFresh(server, withKeys, (id) => ({
        ...minimalDocument(id, {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ ...jwk, ...poison }] },
        }),
        ...poison,
      })),
    );
    const keys = ownKeysDeep(client.metadata);
    assert.ok(keys.has('kid'), 'the key set was kept');
    for (const key of POISON) assert.equal(keys.has(key), false, `${key} kept in ${JSON.stringify(client.metadata)}`);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses a document nested deeper than the body limit', async () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { deeper: deep };
    refusedWith(
      await lookUpFresh(server, dcr, (id) => minimalDocument(id, { x_deep: deep })),
      'invalid_client_metadata',
      /nested deeper than 16 levels/,
    );
  });

  it('accepts attest_jwt_client_auth in a document only where the deployment accepts attestations', async () => {
    const attester = await makeAttester('vendor');
    const attesting = server.registration({
      tokenEndpointAuthMethods: ['none', 'attest_jwt_client_auth'],
      clientAttestation: {
        attesters: [{ id: 'vendor', jwks: { keys: [attester.publicJwk] }, domains: ['localhost'] }],
      },
    });
    const document = (id: string) => minimalDocument(id, { token_endpoint_auth_method: 'attest_jwt_client_auth' });
    const client = found(await lookUpFresh(server, attesting, document));
    assert.equal(client.metadata.token_endpoint_auth_method, 'attest_jwt_client_auth');
    assert.equal(client.clientSecretHash, undefined);

    refusedWith(await lookUpFresh(server, dcr, document), 'invalid_client_metadata', /attest_jwt_client_auth/);
  });
});

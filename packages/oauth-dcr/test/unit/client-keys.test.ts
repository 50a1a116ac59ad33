/**
 * The key rules (metadata/client-keys.ts) as a registration meets them: the same rules hold for
 * Client ID Metadata Documents (test/cimd/document.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLIENT_ASSERTION_ALGORITHMS } from 'oauth-dcr';
import { makeRegistration, register } from '../support/registration.js';

const PUBLIC_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4',
  y: '4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM',
};
const keyClient = {
  redirect_uris: ['https://app.example/cb'],
  token_endpoint_auth_method: 'private_key_jwt',
  jwks: { keys: [PUBLIC_JWK] },
};

describe('client keys and signing algorithms (RFC 7591 §2, RFC 7523 §3)', () => {
  const dcr = makeRegistration({ tokenEndpointAuthMethods: ['none', 'client_secret_basic', 'private_key_jwt'] });

  for (const alg of ['HS256', 'HS384', 'HS512', 'none']) {
    it(`refuses token_endpoint_auth_signing_alg ${alg}`, async () => {
      const response = await register(dcr, { ...keyClient, token_endpoint_auth_signing_alg: alg });
      assert.equal(response.status, 400);
      assert.equal(response.body.error, 'invalid_client_metadata');
      assert.match(response.body.error_description, /token_endpoint_auth_signing_alg/);
    });
  }

  for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA']) {
    it(`accepts token_endpoint_auth_signing_alg ${alg}`, async () => {
      const response = await register(dcr, { ...keyClient, token_endpoint_auth_signing_alg: alg });
      assert.equal(response.status, 201, response.text);
      assert.equal(response.body.token_endpoint_auth_signing_alg, alg);
    });
  }

  it('advertises exactly the algorithms it accepts', () => {
    assert.deepEqual(dcr.serverMetadata().token_endpoint_auth_signing_alg_values_supported, [
      ...CLIENT_ASSERTION_ALGORITHMS,
    ]);
  });

  it('refuses a symmetric key in jwks', async () => {
    const response = await register(dcr, { ...keyClient, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } });
    assert.equal(response.status, 400);
    assert.match(response.body.error_description, /must be a public key/);
  });
});

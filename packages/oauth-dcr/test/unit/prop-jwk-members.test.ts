import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeRegistration, register } from '../support/registration.js';

/**
 * A registered `jwks` (RFC 7591 §2) is echoed as it was sent, so what it may hold is checked:
 * no JSON null anywhere (RFC 7517 §4, §5; RFC 7591 §3.2.1 never echoes null), and the registered
 * JWK parameters with their RFC 7517 §4 types. Found by the metadata property test.
 */
const KEY = {
  kty: 'EC',
  crv: 'P-256',
  x: 'xfbyPcucoXi-obgOnLpSFqWqSBxWMYr-e6koyZtAjpU',
  y: 'Gu36YXN_9uUZ8npWuuatCZpORDFil4KrgvNmdmTavLg',
};
const body = (jwks: unknown) => ({ redirect_uris: ['https://app.example/cb'], jwks });

describe('jwks members', () => {
  const refused: [string, unknown, RegExp][] = [
    ['a null key parameter', { keys: [{ ...KEY, use: null }] }, /jwks\.keys\[0\]\.use must not be null/],
    ['a null in x5c', { keys: [{ ...KEY, x5c: [null] }] }, /jwks\.keys\[0\]\.x5c\[0\] must not be null/],
    ['a null member of the set', { keys: [KEY], note: null }, /jwks\.note must not be null/],
    ['a null deep inside an extension', { keys: [{ ...KEY, ext: { a: { b: null } } }] }, /ext\.a\.b must not be null/],
    ['use as an object', { keys: [{ ...KEY, use: { a: 1 } }] }, /use must be a string/],
    ['kid as a number', { keys: [{ ...KEY, kid: 7 }] }, /kid must be a string/],
    ['key_ops as a string', { keys: [{ ...KEY, key_ops: 'verify' }] }, /key_ops must be an array of strings/],
    ['x5c with a number', { keys: [{ ...KEY, x5c: ['MII', 1] }] }, /x5c must be an array of strings/],
  ];
  for (const [name, jwks, description] of refused) {
    it(`refuses ${name} with invalid_client_metadata`, async () => {
      const answer = await register(makeRegistration(), body(jwks));
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.body.error, 'invalid_client_metadata');
      assert.match(answer.body.error_description, description);
    });
  }

  it('accepts and echoes unchanged a key with its registered parameters and an extension', async () => {
    const jwks = { keys: [{ ...KEY, use: 'sig', kid: 'k1', alg: 'ES256', key_ops: ['verify'], ext: { a: 1 } }] };
    const answer = await register(makeRegistration(), body(jwks));
    assert.equal(answer.status, 201, answer.text);
    assert.deepEqual(answer.body.jwks, jwks);
  });
});

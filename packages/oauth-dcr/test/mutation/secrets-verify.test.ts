/**
 * verifySecret answers true or false, never throws, whatever a request or a stored row holds
 * (RFC 6749 §2.3.1 client passwords; stored as SHA-256 digests). Found unheld by mutation testing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSecret, hashSecret, verifySecret } from 'oauth-dcr';

const secret = generateSecret();
const digest = hashSecret(secret);

describe('verifySecret never throws', () => {
  const presented: Array<[string, unknown]> = [
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['an array holding the secret', [secret]],
    ['an object', { toString: () => secret }],
  ];
  for (const [name, value] of presented) {
    it(`false for ${name} presented`, () => assert.equal(verifySecret(value as string, digest), false));
  }

  const stored: Array<[string, unknown]> = [
    ['64 characters that are not ASCII', 'é'.repeat(64)],
    ['64 characters beyond Latin-1', '€'.repeat(64)],
    ['a digest one character short', digest.slice(1)],
    ['a digest one character long', `${digest}0`],
    ['undefined', undefined],
    ['null', null],
  ];
  for (const [name, value] of stored) {
    it(`false against ${name} stored`, () => assert.equal(verifySecret(secret, value as string), false));
  }

  it('true for the secret against its digest, in either case', () => {
    assert.equal(verifySecret(secret, digest), true);
    assert.equal(verifySecret(secret, digest.toUpperCase()), true);
  });
});

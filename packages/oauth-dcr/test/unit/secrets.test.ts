import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { generateSecret, hashSecret, verifySecret } from '../../src/core/secrets.js';

describe('secrets: 256-bit values stored as SHA-256', () => {
  it('generates 43-character base64url secrets carrying 32 random bytes, never repeating', () => {
    const seen = new Set<string>();
    // More than one pool's worth, so refills are crossed.
    for (let i = 0; i < 10_000; i++) {
      const secret = generateSecret();
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(Buffer.from(secret, 'base64url').length, 32);
      seen.add(secret);
    }
    assert.equal(seen.size, 10_000);
  });

  it('hashes with SHA-256 (hex)', () => {
    assert.equal(hashSecret('abc'), createHash('sha256').update('abc').digest('hex'));
  });

  it('verifies only the matching secret, and refuses malformed stored hashes', () => {
    const secret = generateSecret();
    const hash = hashSecret(secret);
    assert.equal(verifySecret(secret, hash), true);
    assert.equal(verifySecret(`${secret}x`, hash), false);
    assert.equal(verifySecret('', hash), false);
    assert.equal(verifySecret(secret, undefined), false);
    assert.equal(verifySecret(secret, hash.slice(0, 63)), false);
    assert.equal(verifySecret(secret, 'zz'.repeat(32)), false);
  });
});

/**
 * What the reference server keeps for issue 9, alike on memory, SQLite and PostgreSQL: the
 * resources bound to codes and tokens (RFC 8707), the access-token signing keys and their
 * rotation (RFC 9068), and single-use client assertion ids (RFC 7523 §3).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader, jwtVerify, createLocalJWKSet } from 'jose';
import { mintAccessToken } from '../../src/access-tokens.js';
import { RELOAD_INTERVAL_SECONDS, SigningKeyRing } from '../../src/signing-keys.js';
import type { ServerStorage } from '../../src/storage/open-storage.js';
import { storageBackends } from '../support/storage-backends.js';

const hash = () => randomBytes(32).toString('hex');
const TTL = 600;

for (const backend of storageBackends()) {
  describe(`issue 9 storage: ${backend.name}`, () => {
    let storage: ServerStorage;
    before(async () => {
      storage = await backend.open();
    });
    after(async () => {
      await storage.close();
      await backend.cleanup();
    });

    it('keeps the list of resources of a code and of tokens, in order; none stays none', async () => {
      const now = Math.floor(Date.now() / 1000);
      const resources = ['https://a.example/mcp', 'http://127.0.0.1:8080/'];
      const codeHash = hash();
      await storage.tokens.insertAuthorizationCode({
        codeHash,
        grantId: 'g1',
        clientId: 'c1',
        userId: 'u1',
        redirectUri: 'http://127.0.0.1/cb',
        redirectUriSent: true,
        resources,
        expiresAt: now + 60,
        createdAt: now,
      });
      assert.deepEqual((await storage.tokens.findAuthorizationCode(codeHash))?.resources, resources);
      const [refreshHash, accessHash, opaqueHash] = [hash(), hash(), hash()];
      const common = { grantId: 'g1', clientId: 'c1', expiresAt: now + 60, createdAt: now };
      await storage.tokens.insertTokens([
        { ...common, tokenHash: accessHash, kind: 'access', resources: [resources[0]!] },
        { ...common, tokenHash: refreshHash, kind: 'refresh', resources },
        { ...common, tokenHash: opaqueHash, kind: 'access' },
      ]);
      assert.deepEqual((await storage.tokens.findToken(refreshHash))?.resources, resources);
      assert.deepEqual((await storage.tokens.findToken(accessHash))?.resources, [resources[0]]);
      assert.equal((await storage.tokens.findToken(opaqueHash))?.resources, undefined);
    });

    it('uses a client assertion id once until it expires, then prunes it', async () => {
      const now = Math.floor(Date.now() / 1000);
      const key = `client-1 ${hash()}`;
      assert.equal(await storage.usedClientAssertions.useOnce(key, now + 300), true);
      assert.equal(await storage.usedClientAssertions.useOnce(key, now + 300), false, 'a replay');
      const stale = `client-1 ${hash()}`;
      assert.equal(await storage.usedClientAssertions.useOnce(stale, now - 10), true);
      assert.equal(await storage.usedClientAssertions.useOnce(stale, now + 300), true, 'an expired record is no bar');
      const old = `client-2 ${hash()}`;
      await storage.usedClientAssertions.useOnce(old, now - 100);
      assert.ok((await storage.usedClientAssertions.pruneExpired(now - 50)) >= 1);
      assert.equal(await storage.usedClientAssertions.useOnce(key, now + 300), false, 'live records survive pruning');
    });

    it('shares signing keys between instances: rotation reaches the other within a reload, old keys stay published for the token lifetime', async () => {
      let clock = Math.floor(Date.now() / 1000);
      const now = () => clock;
      const one = await SigningKeyRing.open({ store: storage.signingKeys, accessTokenTtl: TTL, now });
      const two = await SigningKeyRing.open({ store: storage.signingKeys, accessTokenTtl: TTL, now });
      const first = (await one.signingKey()).kid;
      assert.equal((await two.signingKey()).kid, first, 'the second instance signs with the stored key');
      const claims = {
        issuer: 'https://as.example',
        audience: 'https://rs.example/',
        subject: 'u',
        clientId: 'c',
        lifetime: TTL,
      };
      const oldToken = await mintAccessToken(two, claims);

      clock += 5;
      const second = await two.rotate();
      assert.notEqual(second, first);
      assert.equal((await one.signingKey()).kid, first, 'until its next reload, an instance signs with the old key');
      clock += RELOAD_INTERVAL_SECONDS;
      const newToken = await mintAccessToken(one, claims);
      assert.equal(decodeProtectedHeader(newToken).kid, second);
      const published = createLocalJWKSet(await one.publicJwks());
      await jwtVerify(oldToken, published, { currentDate: new Date(clock * 1000) });
      await jwtVerify(newToken, published, { currentDate: new Date(clock * 1000) });

      clock += TTL + RELOAD_INTERVAL_SECONDS + 5;
      const kids = (await one.publicJwks()).keys.map((key) => key.kid);
      assert.deepEqual(kids, [second], 'once its tokens have expired, the old key is no longer published');
      assert.equal(await one.prune(), 1);
      assert.deepEqual(
        (await storage.signingKeys.listSigningKeys()).map((key) => key.kid),
        [second],
      );
    });

    it('seals private keys with a secret, and refuses to open them without it', async () => {
      // The store holds an unsealed key from the test above: it still opens, and the rotation seals.
      const store = storage.signingKeys;
      const ring = await SigningKeyRing.open({ store, accessTokenTtl: TTL, secret: 'sixteen-chars-or-more' });
      const kid = await ring.rotate();
      const stored = (await store.listSigningKeys()).find((key) => key.kid === kid)!;
      assert.match(stored.privateJwk, /^aes-256-gcm:/);
      assert.doesNotMatch(stored.privateJwk, /"d"/);
      await assert.rejects(SigningKeyRing.open({ store, accessTokenTtl: TTL }), /DCR_SIGNING_KEY_SECRET/);
      await assert.rejects(
        SigningKeyRing.open({ store, accessTokenTtl: TTL, secret: 'another-secret-entirely' }),
        /does not open/,
      );
    });
  });
}

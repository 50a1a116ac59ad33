/**
 * A refresh rotation is one durable write (storage/records.ts rotateRefreshToken): the presented
 * refresh token is revoked and its successors inserted together or not at all, on memory, SQLite
 * and PostgreSQL. Codes keep their own conditional update (consumeAuthorizationCode), raced here
 * too on the durable stores.
 *
 * Why no crash can fall between the revocation and the insert: on SQLite the revocation is done
 * by a trigger of the INSERT itself (reference-schema.ts, migration 003), so both are one
 * statement, and a statement is atomic whether it commits alone or inside a group commit; on
 * PostgreSQL both run in one transaction; in memory both happen without an await. There is no
 * moment where one half is durable and the other is not. What a test can show is the other face
 * of that atomicity: when the INSERT fails, the revocation is undone too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ServerStorage } from '../../src/storage/open-storage.js';
import type { TokenRecord } from '../../src/storage/records.js';
import { storageBackends } from '../support/storage-backends.js';

const hash = () => randomBytes(32).toString('hex');
const now = () => Math.floor(Date.now() / 1000);

function issuance(grantId: string, refresh = true): TokenRecord[] {
  const at = now();
  const common = { grantId, clientId: 'c1', userId: 'u1', expiresAt: at + 600, createdAt: at };
  const records: TokenRecord[] = [{ ...common, tokenHash: hash(), kind: 'access' }];
  if (refresh) records.push({ ...common, tokenHash: hash(), kind: 'refresh' });
  return records;
}

for (const backend of storageBackends()) {
  describe(`refresh token rotation in one write: ${backend.name}`, () => {
    let storage: ServerStorage;
    before(async () => {
      storage = await backend.open();
    });
    after(async () => {
      await storage.close();
      await backend.cleanup();
    });

    async function liveRefreshToken(grantId: string): Promise<string> {
      const [, refresh] = issuance(grantId);
      await storage.tokens.insertTokens([refresh!]);
      return refresh!.tokenHash;
    }

    async function unusedCode(grantId: string): Promise<string> {
      const codeHash = hash();
      await storage.tokens.insertAuthorizationCode({
        codeHash,
        grantId,
        clientId: 'c1',
        userId: 'u1',
        redirectUri: 'http://127.0.0.1/cb',
        redirectUriSent: true,
        expiresAt: now() + 300,
        createdAt: now(),
      });
      return codeHash;
    }

    it('of two concurrent rotations of one refresh token exactly one wins; the loser writes nothing', async () => {
      const old = await liveRefreshToken('g-rotate');
      const first = issuance('g-rotate');
      const second = issuance('g-rotate');
      // An unrelated write queued beside them: on SQLite all three share one group commit.
      const bystander = issuance('g-bystander');
      const [a, b] = await Promise.all([
        storage.tokens.rotateRefreshToken(old, first),
        storage.tokens.rotateRefreshToken(old, second),
        storage.tokens.insertTokens(bystander),
      ]);
      assert.deepEqual([a, b].sort(), [false, true]);
      const [won, lost] = a ? [first, second] : [second, first];
      for (const record of won!) assert.equal((await storage.tokens.findToken(record.tokenHash))?.revokedAt, undefined);
      for (const record of lost!) assert.equal(await storage.tokens.findToken(record.tokenHash), null);
      for (const record of bystander) assert.ok(await storage.tokens.findToken(record.tokenHash));
      assert.equal((await storage.tokens.findToken(old))?.revokedAt, won![0]!.createdAt);
    });

    it('of two concurrent consumptions of one code exactly one wins', async () => {
      const code = await unusedCode('g-code');
      const at = now();
      const results = await Promise.all([
        storage.tokens.consumeAuthorizationCode(code, at),
        storage.tokens.consumeAuthorizationCode(code, at),
      ]);
      assert.deepEqual(results.sort(), [false, true]);
    });

    it('revokes nothing when the new tokens cannot be inserted (all or nothing)', async () => {
      const old = await liveRefreshToken('g-atomic');
      const taken = issuance('g-other');
      await storage.tokens.insertTokens(taken);
      // The access token's hash is already stored: the INSERT fails on its primary key.
      const clashing: TokenRecord[] = [{ ...issuance('g-atomic')[0]!, tokenHash: taken[0]!.tokenHash }];
      await assert.rejects(storage.tokens.rotateRefreshToken(old, clashing));
      assert.equal((await storage.tokens.findToken(old))?.revokedAt, undefined);
      // And it can still be rotated, once.
      assert.equal(await storage.tokens.rotateRefreshToken(old, issuance('g-atomic')), true);
      assert.equal(await storage.tokens.rotateRefreshToken(old, issuance('g-atomic')), false);
    });

    it('refuses a revoked, unknown or access token as the token to rotate', async () => {
      const old = await liveRefreshToken('g-refuse');
      assert.equal(await storage.tokens.revokeToken(old, now()), true);
      assert.equal(await storage.tokens.rotateRefreshToken(old, issuance('g-refuse')), false);
      assert.equal(await storage.tokens.rotateRefreshToken(hash(), issuance('g-refuse')), false);
      const [access] = issuance('g-refuse', false);
      await storage.tokens.insertTokens([access!]);
      assert.equal(await storage.tokens.rotateRefreshToken(access!.tokenHash, issuance('g-refuse')), false);
      // Nothing of the refused rotations was stored.
      assert.equal((await storage.tokens.findToken(access!.tokenHash))?.revokedAt, undefined);
    });
  });
}

/**
 * The reference server's own stores (users, authorization codes, tokens) on every backend: what
 * must hold alike on memory, SQLite and PostgreSQL. Today: NUL (U+0000), which PostgreSQL text
 * cannot hold, is answered as any unknown value is (a login as `a%00b` was a 500 there).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AuthorizationCodeRecord, TokenRecord } from '../../src/storage/records.js';
import type { ServerStorage } from '../../src/storage/open-storage.js';
import { storageBackends } from '../support/storage-backends.js';

const T0 = 1_700_000_000;
const NUL_KEYS = ['\u0000', 'a\u0000b', '\u0000'.repeat(3), `${'f'.repeat(64)}\u0000`];
const isNulRefused = { name: 'TypeError', message: /U\+0000/ };

function hash(): string {
  return randomBytes(32).toString('hex');
}

function code(overrides: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord {
  return {
    codeHash: hash(),
    grantId: `grant-${hash()}`,
    clientId: 'client-1',
    userId: 'user-1',
    redirectUri: 'http://127.0.0.1/cb',
    redirectUriSent: true,
    scope: ['read'],
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    codeChallengeMethod: 'S256',
    expiresAt: T0 + 60,
    createdAt: T0,
    ...overrides,
  };
}

function accessToken(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    tokenHash: hash(),
    kind: 'access',
    grantId: `grant-${hash()}`,
    clientId: 'client-1',
    userId: 'user-1',
    scope: ['read'],
    expiresAt: T0 + 3600,
    createdAt: T0,
    ...overrides,
  };
}

for (const backend of storageBackends()) {
  describe(`reference server storage: ${backend.name}`, () => {
    let storage: ServerStorage;
    before(async () => {
      storage = await backend.open();
    });
    after(async () => {
      await storage.close();
      await backend.cleanup();
    });

    describe('U+0000 (NUL) is answered like any unknown value', () => {
      it('finds no user by a name or id holding NUL', async () => {
        const user = await storage.users.upsertUser('alice', 'scrypt$hash', T0);
        for (const key of [...NUL_KEYS, 'alice\u0000', `${user.id}\u0000`]) {
          assert.equal(await storage.users.findUserByName(key), null, JSON.stringify(key));
          assert.equal(await storage.users.findUserById(key), null, JSON.stringify(key));
        }
        assert.deepEqual(await storage.users.findUserByName('alice'), user);
      });

      it('finds, consumes and revokes no code or token by a hash, grant or client id holding NUL', async () => {
        const storedCode = code();
        const storedToken = accessToken({ grantId: storedCode.grantId });
        await storage.tokens.insertAuthorizationCode(storedCode);
        await storage.tokens.insertTokens([storedToken]);
        for (const key of [...NUL_KEYS, `${storedCode.codeHash}\u0000`, `${storedToken.tokenHash}\u0000`]) {
          assert.equal(await storage.tokens.findAuthorizationCode(key), null);
          assert.equal(await storage.tokens.consumeAuthorizationCode(key, T0), false);
          assert.equal(await storage.tokens.findToken(key), null);
          assert.equal(await storage.tokens.revokeToken(key, T0), false);
        }
        for (const key of [...NUL_KEYS, `${storedCode.grantId}\u0000`, 'client-1\u0000']) {
          assert.equal(await storage.tokens.revokeGrant(key, T0), 0);
          assert.equal(await storage.tokens.revokeClient(key, T0), 0);
        }
        // Nothing was touched.
        assert.deepEqual(await storage.tokens.findAuthorizationCode(storedCode.codeHash), storedCode);
        assert.deepEqual(await storage.tokens.findToken(storedToken.tokenHash), storedToken);
      });

      it('refuses to store NUL in a user, code or token, and stores nothing', async () => {
        await assert.rejects(storage.users.upsertUser('bob\u0000', 'scrypt$hash', T0), isNulRefused);
        assert.equal(await storage.users.findUserByName('bob'), null);

        const badCode = code({ resources: ['https://rs.example/\u0000'] });
        await assert.rejects(storage.tokens.insertAuthorizationCode(badCode), isNulRefused);
        assert.equal(await storage.tokens.findAuthorizationCode(badCode.codeHash), null);

        const good = accessToken();
        const bad = accessToken({ scope: ['read', 'wr\u0000ite'] });
        await assert.rejects(storage.tokens.insertTokens([good, bad]), isNulRefused);
        assert.equal(await storage.tokens.findToken(good.tokenHash), null, 'an issuance is stored whole or not at all');
      });
    });
  });
}

/**
 * The ClientStore contract, as tests. Every store runs this same suite (test/stores/*.test.ts), so
 * the registration code can rely on one behaviour whatever the backend.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { AuditEvent, ClientStore } from '../../src/store/types.js';
import { auditTrailContract } from './contract-audit.js';
import { idleClientsContract } from './contract-idle.js';
import { operatorFieldsContract } from './contract-operator.js';
import { T0, YEAR_2100, byCodePoint, fullClient, hash, minimalClient, randomId, token } from './contract-fixtures.js';

export interface StoreContractOptions {
  /** Runs once after the suite: drop schemas, remove temporary files. */
  cleanup?: () => Promise<void>;
  /**
   * Opens another store over the same storage as `store` (which may be open or already closed):
   * a second process or server instance. Stores without shared storage (memory) leave it out and
   * the tests that need it are skipped.
   */
  openAnother?: (store: ClientStore) => Promise<ClientStore>;
}

const OPTIONAL_CLIENT_FIELDS = [
  'clientSecretHash',
  'previousSecretHash',
  'previousSecretExpiresAt',
  'registrationAccessTokenHash',
  'registeredBy',
  'lastUsedAt',
  'disabledAt',
  'registrationFingerprint',
  'grantedRights',
] as const;

const isClientExists = { name: 'ClientExistsError', code: 'client_exists' };
const isStoreClosed = { name: 'StoreClosedError', code: 'store_closed' };

export function clientStoreContract(
  name: string,
  makeStore: () => Promise<ClientStore>,
  options: StoreContractOptions = {},
): void {
  const { openAnother, cleanup } = options;
  // Properties of shared storage (a second instance, a reopen) exist only for stores that have it;
  // for the memory store these tests are not registered rather than reported as skipped.
  const itWithSharedStorage: (name: string, fn: () => Promise<void>) => void = openAnother
    ? (name, fn) => it(name, fn)
    : () => undefined;

  /** Runs `body` with a fresh store, closed afterwards whatever happens. */
  async function withStore(body: (store: ClientStore) => Promise<void>): Promise<void> {
    const store = await makeStore();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  }

  describe(`ClientStore contract: ${name}`, () => {
    if (cleanup) after(cleanup);

    // Operator tools, limits and the idle-client reaper (issue 11), in files of their own.
    const context = { makeStore, withStore, itWithSharedStorage, ...(openAnother ? { openAnother } : {}) };
    operatorFieldsContract(context);
    idleClientsContract(context);
    auditTrailContract(context);

    describe('clients', () => {
      it('finds a client as inserted, metadata and every field exactly', () =>
        withStore(async (store) => {
          const record = fullClient();
          await store.insertClient(record);
          assert.deepStrictEqual(await store.findClient(record.clientId), record);
        }));

      it('leaves absent optional fields absent, never null or undefined', () =>
        withStore(async (store) => {
          const record = minimalClient();
          await store.insertClient(record);
          const found = await store.findClient(record.clientId);
          assert.deepStrictEqual(found, record);
          for (const field of OPTIONAL_CLIENT_FIELDS) assert.equal(field in found!, false, field);
          const listed = (await store.listClients()).find((c) => c.clientId === record.clientId);
          for (const field of OPTIONAL_CLIENT_FIELDS) assert.equal(field in listed!, false, field);
        }));

      it('stores an optional field given as undefined as absent', () =>
        withStore(async (store) => {
          const record = { ...minimalClient(), clientSecretHash: undefined, registeredBy: undefined };
          await store.insertClient(record);
          const found = await store.findClient(record.clientId);
          assert.equal('clientSecretHash' in found!, false);
          assert.equal('registeredBy' in found!, false);
        }));

      it('returns integer timestamps as numbers, also after 2038', () =>
        withStore(async (store) => {
          const record = fullClient();
          await store.insertClient(record);
          const found = await store.findClient(record.clientId);
          assert.equal(found!.clientSecretExpiresAt, YEAR_2100);
          for (const key of [
            'clientIdIssuedAt',
            'clientSecretExpiresAt',
            'previousSecretExpiresAt',
            'createdAt',
            'updatedAt',
            'lastUsedAt',
          ] as const) {
            assert.equal(typeof found![key], 'number', key);
          }
        }));

      it('finds nothing for an unknown client id', () =>
        withStore(async (store) => {
          assert.equal(await store.findClient('no-such-client'), null);
        }));

      it('rejects a duplicate client id and keeps the first client', () =>
        withStore(async (store) => {
          const first = fullClient();
          await store.insertClient(first);
          await assert.rejects(store.insertClient(minimalClient({ clientId: first.clientId })), isClientExists);
          assert.deepStrictEqual(await store.findClient(first.clientId), first);
        }));

      it('copies records in: changing one after insert changes nothing stored', () =>
        withStore(async (store) => {
          const record = fullClient();
          const expected = structuredClone(record);
          await store.insertClient(record);
          (record.metadata.redirect_uris as string[]).push('https://evil.example/');
          record.metadata.client_name = 'changed';
          record.clientSecretHash = 'changed';
          record.grantedRights!.push('introspection=https://evil.example/');
          assert.deepStrictEqual(await store.findClient(record.clientId), expected);
        }));

      it('hands records out deep-frozen, so no reader can change what another reads', () =>
        withStore(async (store) => {
          const record = fullClient();
          await store.insertClient(record);
          await store.recordClientUse(record.clientId, T0 + 5);
          const found = (await store.findClient(record.clientId))!;
          const [listed] = await store.listClients({ limit: 1 });
          for (const value of [
            found,
            found.metadata,
            found.metadata.redirect_uris,
            found.metadata.jwks,
            found.grantedRights,
            listed,
            listed!.metadata,
          ]) {
            assert.ok(Object.isFrozen(value), `not frozen: ${JSON.stringify(value)}`);
          }
          // Module code is strict: writing to a frozen object throws instead of failing silently.
          assert.throws(() => (found.metadata.redirect_uris as string[]).push('https://evil.example/'), TypeError);
          assert.throws(() => {
            found.registeredVia = 'admin';
          }, TypeError);
          assert.throws(() => {
            listed!.metadata.client_name = 'changed';
          }, TypeError);
          assert.deepStrictEqual(await store.findClient(record.clientId), { ...record, lastUsedAt: T0 + 5 });
        }));

      it('inserts 50 clients concurrently, all distinct and readable', () =>
        withStore(async (store) => {
          const records = Array.from({ length: 50 }, () => fullClient());
          await Promise.all(records.map((record) => store.insertClient(record)));
          const found = await Promise.all(records.map((record) => store.findClient(record.clientId)));
          assert.deepStrictEqual(found, records);
          assert.equal((await store.listClients({ limit: 1000 })).length, 50);
        }));

      it('rejects only the duplicate among concurrent inserts', () =>
        withStore(async (store) => {
          const records = Array.from({ length: 20 }, () => minimalClient());
          const duplicate = minimalClient({ clientId: records[7]!.clientId, registeredBy: 'second' });
          const outcomes = await Promise.allSettled(
            [...records, duplicate].map((record) => store.insertClient(record)),
          );
          assert.deepEqual(
            outcomes.map((outcome) => outcome.status),
            [...records.map(() => 'fulfilled'), 'rejected'],
          );
          assert.equal((outcomes[20] as PromiseRejectedResult).reason.code, 'client_exists');
          for (const record of records) assert.deepStrictEqual(await store.findClient(record.clientId), record);
        }));
    });

    describe('replaceClient', () => {
      it('replaces a client when nothing is expected, and counts the replace in its revision', () =>
        withStore(async (store) => {
          const record = minimalClient();
          await store.insertClient(record);
          // The stored client was never used; a replace does not set lastUsedAt (recordClientUse does).
          const replacement = fullClient({ clientId: record.clientId, updatedAt: T0 + 10 });
          delete replacement.lastUsedAt;
          assert.equal(await store.replaceClient(replacement), true);
          assert.deepStrictEqual(await store.findClient(record.clientId), { ...replacement, revision: 1 });
        }));

      it('starts a client at revision 0 (absent) and keeps the revision its own, whatever a record says', () =>
        withStore(async (store) => {
          const record = minimalClient({ revision: 7 });
          await store.insertClient(record);
          const inserted = (await store.findClient(record.clientId))!;
          assert.equal('revision' in inserted, false);
          assert.equal(await store.replaceClient({ ...inserted, revision: 40 }, inserted), true);
          const once = (await store.findClient(record.clientId))!;
          assert.equal(once.revision, 1);
          assert.equal(await store.replaceClient({ ...once, revision: 0 }, once), true);
          assert.equal((await store.findClient(record.clientId))!.revision, 2);
        }));

      it('replaces a client when it is still as read (rotation)', () =>
        withStore(async (store) => {
          const record = fullClient();
          await store.insertClient(record);
          const read = (await store.findClient(record.clientId))!;
          const rotated = { ...read, registrationAccessTokenHash: hash(), updatedAt: T0 + 20 };
          assert.equal(await store.replaceClient(rotated, read), true);
          assert.deepStrictEqual(await store.findClient(record.clientId), { ...rotated, revision: 1 });
        }));

      it('changes nothing when the expected token hash is stale', () =>
        withStore(async (store) => {
          const record = fullClient();
          await store.insertClient(record);
          const attempt = { ...record, metadata: { client_name: 'late' }, registrationAccessTokenHash: hash() };
          assert.equal(await store.replaceClient(attempt, { registrationAccessTokenHash: hash() }), false);
          assert.deepStrictEqual(await store.findClient(record.clientId), record);
        }));

      it('changes nothing when a hash is expected but the client has none, or none is expected and it has one', () =>
        withStore(async (store) => {
          const record = minimalClient();
          await store.insertClient(record);
          assert.equal(
            await store.replaceClient({ ...record, registeredBy: 'x' }, { registrationAccessTokenHash: hash() }),
            false,
          );
          assert.deepStrictEqual(await store.findClient(record.clientId), record);
          const withToken = fullClient();
          await store.insertClient(withToken);
          assert.equal(await store.replaceClient({ ...withToken, registeredBy: 'x' }, {}), false);
          assert.deepStrictEqual(await store.findClient(withToken.clientId), withToken);
        }));

      it('changes nothing when the client was replaced since it was read, even with the token unchanged', () =>
        withStore(async (store) => {
          // Read, then someone else writes (a secret renewal keeps the token), then the write
          // derived from the first read must fail rather than bring the retired secret back.
          const record = fullClient();
          await store.insertClient(record);
          const read = (await store.findClient(record.clientId))!;
          const renewed = {
            ...read,
            clientSecretHash: hash(),
            previousSecretHash: read.clientSecretHash!,
            updatedAt: T0 + 30,
          };
          assert.equal(await store.replaceClient(renewed, read), true);
          const lateUpdate = { ...read, metadata: { client_name: 'late' }, updatedAt: T0 + 31 };
          assert.equal(await store.replaceClient(lateUpdate, read), false);
          assert.deepStrictEqual(await store.findClient(record.clientId), { ...renewed, revision: 1 });
        }));

      it('changes nothing when the token was rotated between the read and the write', () =>
        withStore(async (store) => {
          const record = fullClient();
          await store.insertClient(record);
          const read = (await store.findClient(record.clientId))!;
          const rotated = { ...read, registrationAccessTokenHash: hash() };
          assert.equal(await store.replaceClient(rotated, read), true);
          const renewal = { ...read, clientSecretHash: hash() };
          assert.equal(await store.replaceClient(renewal, read), false);
          // Also with the revision the rotation left, as long as the token read is the old one.
          assert.equal(await store.replaceClient(renewal, { ...read, revision: 1 }), false);
          assert.deepStrictEqual(await store.findClient(record.clientId), { ...rotated, revision: 1 });
        }));

      it('lets exactly one of ten concurrent replaces from the same read win, token kept or not', () =>
        withStore(async (store) => {
          const record = fullClient();
          await store.insertClient(record);
          const read = (await store.findClient(record.clientId))!;
          // Half rotate the token (updates), half keep it (secret renewals).
          const attempts = Array.from({ length: 10 }, (_, i) => ({
            ...read,
            clientSecretHash: hash(),
            ...(i % 2 === 0 ? { registrationAccessTokenHash: hash() } : {}),
          }));
          const results = await Promise.all(attempts.map((attempt) => store.replaceClient(attempt, read)));
          assert.equal(results.filter(Boolean).length, 1);
          const winner = attempts[results.indexOf(true)]!;
          assert.deepStrictEqual(await store.findClient(record.clientId), { ...winner, revision: 1 });
        }));

      itWithSharedStorage('lets exactly one of concurrent replaces spread over two store instances win', async () => {
        const first = await makeStore();
        const second = await openAnother!(first);
        try {
          const record = fullClient();
          await first.insertClient(record);
          const read = (await first.findClient(record.clientId))!;
          assert.deepStrictEqual(await second.findClient(record.clientId), read);
          const attempts = Array.from({ length: 10 }, () => ({ ...read, clientSecretHash: hash() }));
          const results = await Promise.all(
            attempts.map((attempt, i) => (i % 2 ? first : second).replaceClient(attempt, read)),
          );
          assert.equal(results.filter(Boolean).length, 1);
          const winner = attempts[results.indexOf(true)]!;
          assert.equal((await second.findClient(record.clientId))!.clientSecretHash, winner.clientSecretHash);
          assert.equal((await first.findClient(record.clientId))!.clientSecretHash, winner.clientSecretHash);
        } finally {
          await second.close();
          await first.close();
        }
      });

      it('reports false for a client that does not exist, and creates nothing', () =>
        withStore(async (store) => {
          const record = minimalClient();
          assert.equal(await store.replaceClient(record), false);
          assert.equal(await store.replaceClient(record, record), false);
          assert.equal(await store.findClient(record.clientId), null);
        }));
    });

    describe('deleteClient', () => {
      it('deletes a client; a second delete and a missing client report false', () =>
        withStore(async (store) => {
          const record = fullClient();
          await store.insertClient(record);
          assert.equal(await store.deleteClient(record.clientId), true);
          assert.equal(await store.findClient(record.clientId), null);
          assert.equal(await store.deleteClient(record.clientId), false);
          assert.equal(await store.deleteClient('no-such-client'), false);
        }));

      it('frees the client id for a new registration', () =>
        withStore(async (store) => {
          const record = fullClient();
          await store.insertClient(record);
          await store.deleteClient(record.clientId);
          const again = minimalClient({ clientId: record.clientId });
          await store.insertClient(again);
          assert.deepStrictEqual(await store.findClient(record.clientId), again);
        }));
    });

    describe('recordClientUse', () => {
      it('is visible at once to reads through the same store', () =>
        withStore(async (store) => {
          const record = minimalClient();
          await store.insertClient(record);
          await store.recordClientUse(record.clientId, T0 + 100);
          assert.equal((await store.findClient(record.clientId))!.lastUsedAt, T0 + 100);
          const [listed] = await store.listClients({ limit: 1 });
          assert.equal(listed!.lastUsedAt, T0 + 100);
        }));

      it('only moves forward', () =>
        withStore(async (store) => {
          const record = minimalClient({ lastUsedAt: T0 + 50 });
          await store.insertClient(record);
          await store.recordClientUse(record.clientId, T0 + 10);
          assert.equal((await store.findClient(record.clientId))!.lastUsedAt, T0 + 50);
          await store.recordClientUse(record.clientId, T0 + 300);
          await store.recordClientUse(record.clientId, T0 + 200);
          assert.equal((await store.findClient(record.clientId))!.lastUsedAt, T0 + 300);
        }));

      it('is not moved back by a replace built from an older read', () =>
        withStore(async (store) => {
          const record = minimalClient();
          await store.insertClient(record);
          const read = await store.findClient(record.clientId);
          await store.recordClientUse(record.clientId, T0 + 100);
          assert.equal(await store.replaceClient({ ...read!, updatedAt: T0 + 5 }, read!), true);
          const found = await store.findClient(record.clientId);
          assert.equal(found!.updatedAt, T0 + 5);
          assert.equal(found!.lastUsedAt, T0 + 100);
        }));

      it('ignores an unknown client', () =>
        withStore(async (store) => {
          await store.recordClientUse('no-such-client', T0);
          assert.equal(await store.findClient('no-such-client'), null);
          assert.deepEqual(await store.listClients(), []);
        }));

      itWithSharedStorage('reaches the shared storage by close()', async () => {
        const store = await makeStore();
        const records = [minimalClient(), minimalClient(), minimalClient()];
        try {
          for (const record of records) await store.insertClient(record);
          for (const [i, record] of records.entries()) await store.recordClientUse(record.clientId, T0 + 10 + i);
        } finally {
          await store.close();
        }
        const other = await openAnother!(store);
        try {
          for (const [i, record] of records.entries()) {
            assert.equal((await other.findClient(record.clientId))!.lastUsedAt, T0 + 10 + i);
          }
        } finally {
          await other.close();
        }
      });
    });

    describe('listClients', () => {
      it('pages through clients in code point order of client_id', () =>
        withStore(async (store) => {
          const ids = [
            'b',
            'B',
            'a',
            'a-1',
            'a_1',
            'A',
            '0',
            'z',
            'é',
            'e',
            '😀',
            '\uffe0',
            'https://app.example/client.json',
            'Zed',
          ];
          for (const clientId of ids.slice().reverse()) await store.insertClient(minimalClient({ clientId }));
          const expected = ids.slice().sort(byCodePoint);

          const pages: string[][] = [];
          let after: string | undefined;
          for (;;) {
            const page = await store.listClients({ limit: 4, ...(after === undefined ? {} : { after }) });
            if (page.length === 0) break;
            pages.push(page.map((c) => c.clientId));
            after = page.at(-1)!.clientId;
          }
          assert.deepEqual(pages.flat(), expected);
          assert.deepEqual(
            pages.map((p) => p.length),
            [4, 4, 4, 2],
          );
        }));

      it('applies a default limit of 100, and limit 0 lists nothing', () =>
        withStore(async (store) => {
          await Promise.all(Array.from({ length: 105 }, () => store.insertClient(minimalClient())));
          assert.equal((await store.listClients()).length, 100);
          assert.deepEqual(await store.listClients({ limit: 0 }), []);
          assert.equal((await store.listClients({ limit: 500 })).length, 105);
        }));

      it('lists nothing after the last id', () =>
        withStore(async (store) => {
          await store.insertClient(minimalClient({ clientId: 'only' }));
          assert.deepEqual(await store.listClients({ after: 'only' }), []);
        }));
    });

    describe('initial access tokens', () => {
      it('spends one use per consume and reports what is left', () =>
        withStore(async (store) => {
          const record = token({ usesRemaining: 2, label: 'ci', expiresAt: YEAR_2100 });
          await store.insertInitialAccessToken(record);
          assert.deepStrictEqual(await store.consumeInitialAccessToken(record.tokenHash, T0), {
            ...record,
            usesRemaining: 1,
          });
          assert.deepStrictEqual(await store.consumeInitialAccessToken(record.tokenHash, T0), {
            ...record,
            usesRemaining: 0,
          });
          assert.equal(await store.consumeInitialAccessToken(record.tokenHash, T0), null);
          assert.equal((await store.listInitialAccessTokens())[0]!.usesRemaining, 0);
        }));

      it('refuses an expired token (expiry is exclusive) and spends nothing', () =>
        withStore(async (store) => {
          const record = token({ expiresAt: T0 + 60 });
          await store.insertInitialAccessToken(record);
          assert.equal(await store.consumeInitialAccessToken(record.tokenHash, T0 + 60), null);
          assert.equal(await store.consumeInitialAccessToken(record.tokenHash, T0 + 61), null);
          assert.equal((await store.consumeInitialAccessToken(record.tokenHash, T0 + 59))!.usesRemaining, 2);
        }));

      it('refuses a revoked token; revoking twice or a missing token reports false', () =>
        withStore(async (store) => {
          const record = token();
          await store.insertInitialAccessToken(record);
          assert.equal(await store.revokeInitialAccessToken(record.id, T0 + 5), true);
          assert.equal(await store.consumeInitialAccessToken(record.tokenHash, T0 + 6), null);
          assert.equal(await store.revokeInitialAccessToken(record.id, T0 + 7), false);
          assert.equal(await store.revokeInitialAccessToken('no-such-token', T0), false);
          assert.deepStrictEqual(await store.listInitialAccessTokens(), [{ ...record, revokedAt: T0 + 5 }]);
        }));

      it('keeps an unlimited token unlimited', () =>
        withStore(async (store) => {
          const record = token({ usesRemaining: null });
          await store.insertInitialAccessToken(record);
          for (let i = 0; i < 5; i++) {
            assert.deepStrictEqual(await store.consumeInitialAccessToken(record.tokenHash, T0), record);
          }
        }));

      it('refuses an unknown token hash', () =>
        withStore(async (store) => {
          await store.insertInitialAccessToken(token());
          assert.equal(await store.consumeInitialAccessToken(hash(), T0), null);
        }));

      it('lists tokens oldest first, absent fields absent', () =>
        withStore(async (store) => {
          const newer = token({ createdAt: T0 + 10, label: 'newer', expiresAt: YEAR_2100 });
          const older = token({ createdAt: T0 });
          await store.insertInitialAccessToken(newer);
          await store.insertInitialAccessToken(older);
          const listed = await store.listInitialAccessTokens();
          assert.deepStrictEqual(listed, [older, newer]);
          assert.equal('label' in listed[0]!, false);
          assert.equal('revokedAt' in listed[0]!, false);
        }));

      it('rejects a second token with the same id or hash', () =>
        withStore(async (store) => {
          const record = token();
          await store.insertInitialAccessToken(record);
          await assert.rejects(store.insertInitialAccessToken(token({ id: record.id })));
          await assert.rejects(store.insertInitialAccessToken(token({ tokenHash: record.tokenHash })));
          assert.deepStrictEqual(await store.listInitialAccessTokens(), [record]);
        }));

      it('gives exactly 5 of 40 concurrent consumers a 5-use token', () =>
        withStore(async (store) => {
          const record = token({ usesRemaining: 5 });
          await store.insertInitialAccessToken(record);
          const results = await Promise.all(
            Array.from({ length: 40 }, () => store.consumeInitialAccessToken(record.tokenHash, T0)),
          );
          const spent = results.filter((r) => r !== null);
          assert.equal(spent.length, 5);
          assert.deepEqual(spent.map((r) => r.usesRemaining).sort(), [0, 1, 2, 3, 4]);
          assert.equal((await store.listInitialAccessTokens())[0]!.usesRemaining, 0);
        }));

      itWithSharedStorage('gives exactly 5 of 40 consumers spread over two store instances', async () => {
        const first = await makeStore();
        const second = await openAnother!(first);
        try {
          const record = token({ usesRemaining: 5 });
          await first.insertInitialAccessToken(record);
          const results = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              (i % 2 ? first : second).consumeInitialAccessToken(record.tokenHash, T0),
            ),
          );
          assert.equal(results.filter((r) => r !== null).length, 5);
          assert.equal((await second.listInitialAccessTokens())[0]!.usesRemaining, 0);
        } finally {
          await second.close();
          await first.close();
        }
      });
    });

    describe('audit events', () => {
      it('hands initial access tokens and audit events out deep-frozen too', () =>
        withStore(async (store) => {
          const iat = token({ usesRemaining: 2 });
          await store.insertInitialAccessToken(iat);
          const consumed = (await store.consumeInitialAccessToken(iat.tokenHash, T0))!;
          const [listed] = await store.listInitialAccessTokens();
          await store.appendAuditEvent({
            type: 'client.registered',
            at: T0,
            detail: { redirect_uris: ['http://127.0.0.1/cb'] },
          });
          const [event] = await store.listAuditEvents();
          for (const value of [
            consumed,
            listed,
            event,
            event!.detail,
            (event!.detail as { redirect_uris: string[] }).redirect_uris,
          ]) {
            assert.ok(Object.isFrozen(value), `not frozen: ${JSON.stringify(value)}`);
          }
          assert.throws(() => {
            consumed.usesRemaining = 99;
          }, TypeError);
          assert.equal((await store.listInitialAccessTokens())[0]!.usesRemaining, 1);
        }));

      it('lists events in insertion order, filtered by client', () =>
        withStore(async (store) => {
          const a = randomId();
          const b = randomId();
          const events: AuditEvent[] = [
            {
              type: 'client.registered',
              at: T0,
              clientId: a,
              actor: 'anonymous',
              ip: '203.0.113.7',
              detail: { registered_via: 'anonymous', redirect_uris: ['http://127.0.0.1/cb'] },
            },
            { type: 'client.registered', at: T0, clientId: b },
            { type: 'registration.rejected', at: T0 + 1, detail: { error: 'invalid_redirect_uri' } },
            { type: 'client.updated', at: T0 + 2, clientId: a },
            { type: 'client.deleted', at: T0 + 3, clientId: a, actor: 'admin' },
          ];
          for (const event of events) await store.appendAuditEvent(event);

          const all = await store.listAuditEvents();
          assert.deepStrictEqual(
            all.map(({ id: _id, ...event }) => event),
            events,
          );
          const ids = all.map((event) => event.id);
          assert.deepEqual(
            ids,
            ids.slice().sort((x, y) => x - y),
          );
          assert.equal(new Set(ids).size, ids.length);
          for (const id of ids) assert.equal(Number.isInteger(id), true);

          const forA = await store.listAuditEvents({ clientId: a });
          assert.deepStrictEqual(
            forA.map(({ id: _id, ...event }) => event),
            [events[0], events[3], events[4]],
          );
          assert.equal('clientId' in all[2]!, false);
          assert.equal('actor' in all[1]!, false);
          assert.equal('detail' in all[1]!, false);
        }));

      it('with a limit, lists the newest events, still oldest first', () =>
        withStore(async (store) => {
          const clientId = randomId();
          for (let i = 0; i < 6; i++) await store.appendAuditEvent({ type: 'client.read', at: T0 + i, clientId });
          const latest = await store.listAuditEvents({ clientId, limit: 2 });
          assert.deepEqual(
            latest.map((event) => event.at),
            [T0 + 4, T0 + 5],
          );
        }));

      it('keeps events of a deleted client', () =>
        withStore(async (store) => {
          const record = minimalClient();
          await store.insertClient(record);
          await store.appendAuditEvent({ type: 'client.registered', at: T0, clientId: record.clientId });
          await store.deleteClient(record.clientId);
          assert.equal((await store.listAuditEvents({ clientId: record.clientId })).length, 1);
        }));
    });

    describe('U+0000 (NUL): PostgreSQL text cannot hold it, so no store keeps it outside JSON', () => {
      const NUL_KEYS = ['\u0000', 'a\u0000b', 'client-\u0000', `\u0000${'x'.repeat(64)}`];
      const isNulRefused = { name: 'TypeError', message: /U\+0000/ };

      it('finds, replaces and deletes no client by an id holding NUL, as for any unknown id', () =>
        withStore(async (store) => {
          const record = fullClient({ clientId: 'a' });
          await store.insertClient(record);
          for (const clientId of [...NUL_KEYS, 'a\u0000']) {
            assert.equal(await store.findClient(clientId), null, JSON.stringify(clientId));
            assert.equal(await store.replaceClient({ ...record, clientId }), false);
            assert.equal(await store.replaceClient({ ...record, clientId }, record), false);
            assert.equal(await store.deleteClient(clientId), false);
          }
          assert.deepStrictEqual(await store.findClient('a'), record);
        }));

      it('replaces nothing when the expected registration access token hash holds NUL', () =>
        withStore(async (store) => {
          const record = fullClient();
          await store.insertClient(record);
          const attempt = { ...record, registeredBy: 'late' };
          assert.equal(
            await store.replaceClient(attempt, {
              registrationAccessTokenHash: `${record.registrationAccessTokenHash}\u0000`,
            }),
            false,
          );
          assert.deepStrictEqual(await store.findClient(record.clientId), record);
        }));

      it('drops a use of a client id holding NUL, and still records the others', async () => {
        const store = await makeStore();
        const record = minimalClient();
        try {
          await store.insertClient(record);
          await store.recordClientUse('a\u0000b', T0 + 7);
          await store.recordClientUse(record.clientId, T0 + 8);
          assert.equal((await store.findClient(record.clientId))!.lastUsedAt, T0 + 8);
        } finally {
          // close() writes pending uses: one NUL id in the batch must not fail it.
          await store.close();
        }
        if (!openAnother) return;
        const other = await openAnother(store);
        try {
          assert.equal((await other.findClient(record.clientId))!.lastUsedAt, T0 + 8);
        } finally {
          await other.close();
        }
      });

      it('lists clients after a cursor holding NUL as after the part before it', () =>
        withStore(async (store) => {
          for (const clientId of ['a', 'a\u0001', 'a-1', 'b']) await store.insertClient(minimalClient({ clientId }));
          const after = async (cursor: string) => (await store.listClients({ after: cursor })).map((c) => c.clientId);
          assert.deepEqual(await after('a\u0000b'), ['a\u0001', 'a-1', 'b']);
          assert.deepEqual(await after('\u0000'), ['a', 'a\u0001', 'a-1', 'b']);
        }));

      it('spends and revokes no initial access token by a hash or id holding NUL', () =>
        withStore(async (store) => {
          const record = token({ usesRemaining: 1 });
          await store.insertInitialAccessToken(record);
          for (const key of [...NUL_KEYS, `${record.tokenHash}\u0000`]) {
            assert.equal(await store.consumeInitialAccessToken(key, T0), null);
          }
          for (const key of [...NUL_KEYS, `${record.id}\u0000`]) {
            assert.equal(await store.revokeInitialAccessToken(key, T0), false);
          }
          assert.deepStrictEqual(await store.listInitialAccessTokens(), [record]);
        }));

      it('refuses to store NUL in a key or plain text field, and stores nothing', () =>
        withStore(async (store) => {
          const bad = minimalClient({ clientId: 'a\u0000b' });
          await assert.rejects(store.insertClient(bad), isNulRefused);
          const byNul = minimalClient({ registeredBy: 'principal\u0000' });
          await assert.rejects(store.insertClient(byNul), isNulRefused);
          assert.equal(await store.findClient(byNul.clientId), null);
          assert.deepEqual(await store.listClients(), []);

          const record = fullClient();
          await store.insertClient(record);
          await assert.rejects(store.replaceClient({ ...record, clientSecretHash: 'h\u0000' }, record), isNulRefused);
          assert.deepStrictEqual(await store.findClient(record.clientId), record);

          await assert.rejects(store.insertInitialAccessToken(token({ id: 'iat\u0000' })), isNulRefused);
          await assert.rejects(store.insertInitialAccessToken(token({ label: 'ci\u0000' })), isNulRefused);
          assert.deepEqual(await store.listInitialAccessTokens(), []);
        }));

      it('round-trips NUL anywhere in metadata (stored as JSON text)', () =>
        withStore(async (store) => {
          const record = fullClient({
            metadata: {
              client_name: 'a\u0000b',
              'client_name#\u0000': '\u0000',
              contacts: ['\u0000@example.com'],
              nested: { '\u0000': ['x\u0000y', { z: '\u0000\u0000' }] },
            },
          });
          await store.insertClient(record);
          assert.deepStrictEqual(await store.findClient(record.clientId), record);
          const read = (await store.findClient(record.clientId))!;
          const renamed = { ...read, metadata: { ...read.metadata, client_name: '\u0000renamed' } };
          assert.equal(await store.replaceClient(renamed, read), true);
          assert.deepStrictEqual(await store.findClient(record.clientId), { ...renamed, revision: 1 });
        }));

      it('records audit events whatever they hold: NUL in a text field kept as U+FFFD, found by the same filter', () =>
        withStore(async (store) => {
          await store.appendAuditEvent({
            type: 'token.rejected',
            at: T0,
            clientId: 'a\u0000b',
            actor: '\u0000',
            ip: '203.0.113.7\u0000',
            detail: { reason: 'x\u0000y' },
          });
          const expected = {
            type: 'token.rejected',
            at: T0,
            clientId: 'a\ufffdb',
            actor: '\ufffd',
            ip: '203.0.113.7\ufffd',
            detail: { reason: 'x\u0000y' },
          };
          const [event] = await store.listAuditEvents();
          const { id: _id, ...stored } = event!;
          assert.deepStrictEqual(stored, expected);
          assert.equal((await store.listAuditEvents({ clientId: 'a\u0000b' })).length, 1);
          assert.equal((await store.listAuditEvents({ clientId: 'a\ufffdb' })).length, 1);
          assert.equal((await store.listAuditEvents({ clientId: '\u0000' })).length, 0);
        }));
    });

    describe('lifecycle', () => {
      it('refuses calls after close()', async () => {
        const store = await makeStore();
        await store.close();
        await assert.rejects(store.findClient('x'), isStoreClosed);
        await assert.rejects(store.insertClient(minimalClient()), isStoreClosed);
        await assert.rejects(store.recordClientUse('x', T0), isStoreClosed);
      });

      it('finishes writes already started when close() is called', async () => {
        const store = await makeStore();
        const records = Array.from({ length: 10 }, () => minimalClient());
        const writes = records.map((record) => store.insertClient(record));
        await store.close();
        await Promise.all(writes);
        if (!openAnother) return;
        const other = await openAnother(store);
        try {
          for (const record of records) assert.deepStrictEqual(await other.findClient(record.clientId), record);
        } finally {
          await other.close();
        }
      });

      itWithSharedStorage('shows a committed client to another instance at once', async () => {
        const first = await makeStore();
        const second = await openAnother!(first);
        try {
          const record = fullClient();
          await first.insertClient(record);
          assert.deepStrictEqual(await second.findClient(record.clientId), record);
        } finally {
          await second.close();
          await first.close();
        }
      });

      itWithSharedStorage("shows another instance's replace and delete of a client it has read", async () => {
        // Each instance may keep what it read (the SQLite store caches client records); a change
        // made elsewhere must still be visible to the very next read.
        const first = await makeStore();
        const second = await openAnother!(first);
        try {
          const record = fullClient();
          await first.insertClient(record);
          assert.deepStrictEqual(await second.findClient(record.clientId), record);
          assert.deepStrictEqual(await second.findClient(record.clientId), record);
          const replaced = { ...record, metadata: { ...record.metadata, client_name: 'Renamed' }, updatedAt: T0 + 9 };
          assert.equal(await first.replaceClient(replaced), true);
          assert.deepStrictEqual(await second.findClient(record.clientId), { ...replaced, revision: 1 });
          assert.equal(await first.deleteClient(record.clientId), true);
          assert.equal(await second.findClient(record.clientId), null);
        } finally {
          await second.close();
          await first.close();
        }
      });

      itWithSharedStorage('keeps every acknowledged write across close and reopen', async () => {
        const store = await makeStore();
        const record = fullClient();
        const iat = token({ usesRemaining: 4 });
        try {
          await store.insertClient(record);
          await store.insertInitialAccessToken(iat);
          await store.consumeInitialAccessToken(iat.tokenHash, T0);
          await store.appendAuditEvent({ type: 'client.registered', at: T0, clientId: record.clientId });
        } finally {
          await store.close();
        }
        const reopened = await openAnother!(store);
        try {
          assert.deepStrictEqual(await reopened.findClient(record.clientId), record);
          assert.deepStrictEqual(await reopened.listInitialAccessTokens(), [{ ...iat, usesRemaining: 3 }]);
          assert.equal((await reopened.listAuditEvents({ clientId: record.clientId })).length, 1);
        } finally {
          await reopened.close();
        }
      });
    });
  });
}

/**
 * The ClientStore contract for the idle-client reaper: findIdleClients (what a dry run shows) and
 * deleteIdleClients (one batch, the rule re-checked as it deletes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientRecord, ClientStore } from '../../src/store/types.js';
import { type ContractContext, T0, minimalClient, withTwoInstances } from './contract-fixtures.js';

/** The reaper's clock in these tests: thresholds are set relative to it. */
const NOW = T0 + 1_000_000;
const HOUR = 3600;
const DAY = 24 * HOUR;

/** An anonymous client created `age` seconds before NOW, last used `idle` seconds before NOW. */
function client(age: number, idle?: number, overrides: Partial<ClientRecord> = {}): ClientRecord {
  return minimalClient({
    createdAt: NOW - age,
    updatedAt: NOW - age,
    ...(idle === undefined ? {} : { lastUsedAt: NOW - idle }),
    ...overrides,
  });
}

async function insertAll(store: ClientStore, records: ClientRecord[]): Promise<void> {
  for (const record of records) await store.insertClient(record);
}

const ids = (records: ClientRecord[]) => records.map((record) => record.clientId);

export function idleClientsContract(context: ContractContext): void {
  const { withStore, itWithSharedStorage } = context;

  describe('findIdleClients / deleteIdleClients', () => {
    it('never used within the window: finds clients created before it, keeps younger ones and used ones', () =>
      withStore(async (store) => {
        const stale = client(25 * HOUR);
        const young = client(23 * HOUR);
        const exactlyAtThreshold = client(24 * HOUR);
        const usedOnce = client(30 * HOUR, 29 * HOUR);
        await insertAll(store, [stale, young, exactlyAtThreshold, usedOnce]);
        const query = { registeredVia: 'anonymous', neverUsedCreatedBefore: NOW - 24 * HOUR, limit: 10 } as const;
        assert.deepStrictEqual(await store.findIdleClients(query), [stale]);
        assert.deepEqual(await store.deleteIdleClients(query), [stale.clientId]);
        assert.equal(await store.findClient(stale.clientId), null);
        for (const kept of [young, exactlyAtThreshold, usedOnce]) {
          assert.deepStrictEqual(await store.findClient(kept.clientId), kept);
        }
        assert.deepEqual(await store.deleteIdleClients(query), []);
      }));

    it('unused for too long: counts a never-used client from its creation', () =>
      withStore(async (store) => {
        const longUnused = client(200 * DAY, 91 * DAY);
        const neverUsedOld = client(95 * DAY);
        const recentlyUsed = client(200 * DAY, 89 * DAY);
        const neverUsedYoung = client(10 * DAY);
        await insertAll(store, [longUnused, neverUsedOld, recentlyUsed, neverUsedYoung]);
        const query = { registeredVia: 'anonymous', unusedSince: NOW - 90 * DAY, limit: 10 } as const;
        assert.deepStrictEqual(ids(await store.findIdleClients(query)), ids([neverUsedOld, longUnused]));
        assert.deepEqual((await store.deleteIdleClients(query)).sort(), ids([neverUsedOld, longUnused]).sort());
        assert.deepEqual(
          (await store.listClients()).map((c) => c.clientId).sort(),
          ids([recentlyUsed, neverUsedYoung]).sort(),
        );
      }));

    it('applies both rules together, to the one tier named only', () =>
      withStore(async (store) => {
        const neverUsed = client(2 * DAY);
        const unused = client(100 * DAY, 91 * DAY);
        const kept = client(100 * DAY, 1 * DAY);
        const otherTier = client(100 * DAY, 91 * DAY, { registeredVia: 'initial_access_token' });
        const otherTierNeverUsed = client(2 * DAY, undefined, { registeredVia: 'admin' });
        await insertAll(store, [neverUsed, unused, kept, otherTier, otherTierNeverUsed]);
        const query = {
          registeredVia: 'anonymous',
          neverUsedCreatedBefore: NOW - DAY,
          unusedSince: NOW - 90 * DAY,
          limit: 10,
        } as const;
        assert.deepStrictEqual(await store.findIdleClients(query), [unused, neverUsed]);
        assert.deepEqual((await store.deleteIdleClients(query)).sort(), ids([unused, neverUsed]).sort());
        assert.deepStrictEqual(await store.countClients(), {
          total: 3,
          byTier: { anonymous: 1, initial_access_token: 1, admin: 1 },
        });
      }));

    it('returns the oldest first, at most the limit, and deletes in batches', () =>
      withStore(async (store) => {
        const records = [5, 9, 7, 6, 8].map((days) => client(100 * DAY, days * DAY));
        const neverUsed = client(6.5 * DAY);
        await insertAll(store, [...records, neverUsed]);
        const query = { registeredVia: 'anonymous', unusedSince: NOW - 4 * DAY, limit: 2 } as const;
        const oldestFirst = [records[1]!, records[4]!, records[2]!, neverUsed, records[3]!, records[0]!];
        assert.deepStrictEqual(await store.findIdleClients({ ...query, limit: 10 }), oldestFirst);
        assert.deepStrictEqual(await store.findIdleClients(query), oldestFirst.slice(0, 2));
        const batches: string[][] = [];
        for (;;) {
          const deleted = await store.deleteIdleClients(query);
          if (deleted.length === 0) break;
          batches.push(deleted.sort());
        }
        assert.deepEqual(
          batches,
          [0, 2, 4].map((start) => ids(oldestFirst.slice(start, start + 2)).sort()),
        );
        assert.deepStrictEqual(await store.countClients(), { total: 0, byTier: {} });
      }));

    it('picks the oldest among many more idle clients than the limit', () =>
      withStore(async (store) => {
        // 100 idle clients in a shuffled order of age (37 is coprime with 100), half never used.
        const records = Array.from({ length: 100 }, (_, i) => {
          const age = 10 * DAY + ((i * 37) % 100) * HOUR;
          return i % 2 === 0 ? client(age) : client(200 * DAY, age);
        });
        await Promise.all(records.map((record) => store.insertClient(record)));
        const query = { registeredVia: 'anonymous', unusedSince: NOW - DAY, limit: 7 } as const;
        const oldest = records.slice().sort((a, b) => (a.lastUsedAt ?? a.createdAt) - (b.lastUsedAt ?? b.createdAt));
        assert.deepStrictEqual(ids(await store.findIdleClients(query)), ids(oldest.slice(0, 7)));
        assert.deepEqual((await store.deleteIdleClients(query)).sort(), ids(oldest.slice(0, 7)).sort());
        assert.equal((await store.countClients()).total, 93);
      }));

    it('matches nothing without a rule or with a limit of 0, and refuses a bad limit', () =>
      withStore(async (store) => {
        await insertAll(store, [client(100 * DAY), client(100 * DAY, 99 * DAY)]);
        assert.deepEqual(await store.findIdleClients({ registeredVia: 'anonymous', limit: 10 }), []);
        assert.deepEqual(await store.deleteIdleClients({ registeredVia: 'anonymous', limit: 10 }), []);
        const rule = { registeredVia: 'anonymous', unusedSince: NOW, limit: 0 } as const;
        assert.deepEqual(await store.findIdleClients(rule), []);
        assert.deepEqual(await store.deleteIdleClients(rule), []);
        await assert.rejects(store.deleteIdleClients({ ...rule, limit: -1 }), TypeError);
        await assert.rejects(store.findIdleClients({ ...rule, limit: 1.5 }), TypeError);
        await assert.rejects(store.deleteIdleClients({ ...rule, limit: 10, unusedSince: NOW + 0.5 }), TypeError);
        assert.equal((await store.countClients()).total, 2);
      }));

    it('re-checks as it deletes: a client used since it was found is kept, even before the use is written', () =>
      withStore(async (store) => {
        const usedMeanwhile = client(30 * HOUR);
        const stale = client(31 * HOUR);
        await insertAll(store, [usedMeanwhile, stale]);
        const query = { registeredVia: 'anonymous', neverUsedCreatedBefore: NOW - 24 * HOUR, limit: 10 } as const;
        assert.deepEqual(ids(await store.findIdleClients(query)), ids([stale, usedMeanwhile]));
        // recordClientUse is lazy on the SQL stores (written within a second): the reaper must
        // still count it.
        await store.recordClientUse(usedMeanwhile.clientId, NOW);
        assert.deepEqual(ids(await store.findIdleClients(query)), ids([stale]));
        assert.deepEqual(await store.deleteIdleClients(query), [stale.clientId]);
        assert.equal((await store.findClient(usedMeanwhile.clientId))!.lastUsedAt, NOW);
      }));

    it('deletes a client used long ago whose old use is pending, and keeps one whose recent use is pending', () =>
      withStore(async (store) => {
        const oldUse = client(200 * DAY);
        const recentUse = client(200 * DAY);
        await insertAll(store, [oldUse, recentUse]);
        await store.recordClientUse(oldUse.clientId, NOW - 100 * DAY);
        await store.recordClientUse(recentUse.clientId, NOW - DAY);
        const query = { registeredVia: 'anonymous', unusedSince: NOW - 90 * DAY, limit: 10 } as const;
        assert.deepEqual(await store.deleteIdleClients(query), [oldUse.clientId]);
        assert.equal((await store.findClient(recentUse.clientId))!.lastUsedAt, NOW - DAY);
      }));

    itWithSharedStorage("re-checks another instance's use written since the client was found", () =>
      withTwoInstances(context, async (reaper, server) => {
        const client1 = client(30 * HOUR);
        await reaper.insertClient(client1);
        const query = { registeredVia: 'anonymous', neverUsedCreatedBefore: NOW - 24 * HOUR, limit: 10 } as const;
        assert.deepEqual(ids(await reaper.findIdleClients(query)), [client1.clientId]);
        await server.recordClientUse(client1.clientId, NOW);
        // The server instance writes its uses at the latest when it closes; a flush does it now.
        await (server as ClientStore & { flushClientUses?: () => Promise<void> }).flushClientUses?.();
        assert.deepEqual(await reaper.deleteIdleClients(query), []);
        assert.equal((await reaper.findClient(client1.clientId))!.lastUsedAt, NOW);
      }),
    );

    itWithSharedStorage('shows a reaped client as gone to another instance that has read it', () =>
      withTwoInstances(context, async (reaper, server) => {
        const stale = client(100 * DAY);
        await reaper.insertClient(stale);
        assert.deepStrictEqual(await server.findClient(stale.clientId), stale);
        assert.deepStrictEqual(await server.findClient(stale.clientId), stale);
        const query = { registeredVia: 'anonymous', unusedSince: NOW - 90 * DAY, limit: 10 } as const;
        assert.deepEqual(await reaper.deleteIdleClients(query), [stale.clientId]);
        assert.equal(await server.findClient(stale.clientId), null);
      }),
    );
  });
}

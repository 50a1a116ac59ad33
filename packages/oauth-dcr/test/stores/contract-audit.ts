/**
 * The ClientStore contract for reading and pruning the audit trail: listAuditEvents' filters
 * (client, type, since, limit) and deleteAuditEventsBefore (retention, in batches).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent, AuditEventType, ClientStore } from '../../src/store/types.js';
import { type ContractContext, T0, randomId } from './contract-fixtures.js';

async function appendAll(store: ClientStore, events: AuditEvent[]): Promise<void> {
  for (const event of events) await store.appendAuditEvent(event);
}

const withoutIds = (events: Array<AuditEvent & { id: number }>) => events.map(({ id: _id, ...event }) => event);

export function auditTrailContract(context: ContractContext): void {
  const { withStore } = context;

  describe('listAuditEvents filters', () => {
    it('filters by type, by since (inclusive), and by all of them with a client and a limit', () =>
      withStore(async (store) => {
        const a = randomId();
        const b = randomId();
        const events: AuditEvent[] = [
          { type: 'client.registered', at: T0, clientId: a },
          { type: 'request.rate_limited', at: T0 + 1, ip: '203.0.113.9', detail: { limit: 'address' } },
          { type: 'client.authentication_failed', at: T0 + 2, clientId: a, ip: '203.0.113.9' },
          { type: 'client.authentication_failed', at: T0 + 3, clientId: b },
          { type: 'client.disabled', at: T0 + 4, clientId: a, actor: 'operator:alice' },
          { type: 'client.authentication_failed', at: T0 + 5, clientId: a },
          { type: 'client.enabled', at: T0 + 6, clientId: a, actor: 'operator:alice' },
          { type: 'client.reaped', at: T0 + 7, clientId: b, detail: { reason: 'never_used' } },
          { type: 'client_document.fetched', at: T0 + 8, detail: { outcome: 'ok', host: 'app.example' } },
        ];
        await appendAll(store, events);
        const list = async (query: Parameters<ClientStore['listAuditEvents']>[0]) =>
          withoutIds(await store.listAuditEvents(query));

        assert.deepStrictEqual(await list({ type: 'client.authentication_failed' }), [events[2], events[3], events[5]]);
        assert.deepStrictEqual(await list({ since: T0 + 6 }), events.slice(6));
        assert.deepStrictEqual(await list({ since: T0 + 9 }), []);
        assert.deepStrictEqual(await list({ clientId: a, type: 'client.authentication_failed' }), [
          events[2],
          events[5],
        ]);
        assert.deepStrictEqual(await list({ clientId: a, since: T0 + 3 }), [events[4], events[5], events[6]]);
        assert.deepStrictEqual(await list({ clientId: a, since: T0 + 1, limit: 2 }), [events[5], events[6]]);
        assert.deepStrictEqual(
          await list({ clientId: a, type: 'client.authentication_failed', since: T0 + 3, limit: 5 }),
          [events[5]],
        );
        assert.deepStrictEqual(await list({ type: 'client.reaped', clientId: a }), []);
        assert.deepStrictEqual(await list({ limit: 0 }), []);
        await assert.rejects(store.listAuditEvents({ limit: -1 }), TypeError);
      }));

    it('takes the newest matching events when more match than the limit, still oldest first', () =>
      withStore(async (store) => {
        const types: AuditEventType[] = ['client.read', 'token.rejected'];
        for (let i = 0; i < 12; i++) await store.appendAuditEvent({ type: types[i % 2]!, at: T0 + i });
        const found = await store.listAuditEvents({ type: 'token.rejected', since: T0 + 2, limit: 3 });
        assert.deepEqual(
          found.map((event) => event.at),
          [T0 + 7, T0 + 9, T0 + 11],
        );
      }));
  });

  describe('deleteAuditEventsBefore', () => {
    it('deletes events before the time (exclusive), oldest first, at most the limit per call', () =>
      withStore(async (store) => {
        // Appended out of time order: "oldest" is by the event's time, not by insertion.
        const times = [T0 + 3, T0 + 1, T0 + 4, T0 + 2, T0 + 10, T0 + 5, T0];
        await appendAll(
          store,
          times.map((at) => ({ type: 'client.read', at, clientId: `c${at - T0}` })),
        );
        assert.equal(await store.deleteAuditEventsBefore(T0 + 5, 0), 0);
        assert.equal(await store.deleteAuditEventsBefore(T0 + 5, 2), 2);
        const atsLeft = async () => (await store.listAuditEvents({ limit: 100 })).map((event) => event.at - T0);
        // T0 and T0 + 1 went first; insertion order is kept for the rest.
        assert.deepEqual(await atsLeft(), [3, 4, 2, 10, 5]);
        assert.equal(await store.deleteAuditEventsBefore(T0 + 5, 2), 2);
        assert.deepEqual(await atsLeft(), [4, 10, 5]);
        assert.equal(await store.deleteAuditEventsBefore(T0 + 5, 100), 1);
        assert.equal(await store.deleteAuditEventsBefore(T0 + 5, 100), 0);
        assert.deepEqual(await atsLeft(), [10, 5]);
      }));

    it('keeps ids growing after a prune, and new events listable', () =>
      withStore(async (store) => {
        await appendAll(store, [
          { type: 'client.read', at: T0 },
          { type: 'client.read', at: T0 + 1 },
        ]);
        const before = await store.listAuditEvents();
        assert.equal(await store.deleteAuditEventsBefore(T0 + 100, 10), 2);
        await store.appendAuditEvent({ type: 'client.deleted', at: T0 + 2 });
        const [after] = await store.listAuditEvents();
        assert.ok(after!.id > before[1]!.id);
        assert.equal(after!.type, 'client.deleted');
        await assert.rejects(store.deleteAuditEventsBefore(T0, -1), TypeError);
        // Times are integer epoch seconds on every store (PostgreSQL would refuse 1.5 as a BIGINT).
        await assert.rejects(store.deleteAuditEventsBefore(T0 + 0.5, 10), TypeError);
        await assert.rejects(store.listAuditEvents({ since: Number.NaN }), TypeError);
        assert.equal((await store.listAuditEvents()).length, 1);
      }));
  });
}

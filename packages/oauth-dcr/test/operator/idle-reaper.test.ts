import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AuditEvent, type ClientRecord, createRegistration, type RegistrationOptions } from '../../src/index.js';
import { memoryStore } from '../../src/store/memory.js';
import type { ClientStore, RegistrationVia } from '../../src/store/types.js';
import { BASE } from '../support/registration.js';
import { eventually, storeKinds, testClock } from './stores.js';

/**
 * The idle-client reaper (registration.reapIdleClients) and audit retention
 * (registration.pruneAuditEvents), on every store, with a clock the test moves.
 */
const HOUR = 3600;
const DAY = 86400;

function client(clientId: string, via: RegistrationVia, createdAt: number): ClientRecord {
  return {
    clientId,
    metadata: { client_name: clientId, redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' },
    clientIdIssuedAt: createdAt,
    clientSecretExpiresAt: 0,
    registeredVia: via,
    createdAt,
    updatedAt: createdAt,
  };
}

async function ids(store: ClientStore): Promise<string[]> {
  return (await store.listClients({ limit: 1000 })).map((record) => record.clientId).sort();
}

for (const kind of storeKinds()) {
  describe(`the idle-client reaper on the ${kind.name} store`, () => {
    async function setUp(options: Partial<RegistrationOptions> = {}) {
      const { store } = await kind.open();
      const clock = testClock();
      const events: AuditEvent[] = [];
      const registration = createRegistration({
        store,
        issuer: BASE,
        now: clock.now,
        onError: () => {},
        onEvent: (event) => events.push(event),
        ...options,
      });
      const t0 = clock.now();
      return { store, clock, events, registration, t0 };
    }

    it('by default reaps anonymous clients never used within 24 h or unused for 90 days, and no other tier', async () => {
      const { store, clock, events, registration, t0 } = await setUp();
      await store.insertClient(client('abandoned', 'anonymous', t0));
      await store.insertClient(client('used', 'anonymous', t0));
      await store.insertClient(client('recent', 'anonymous', t0 + 23 * HOUR));
      await store.insertClient(client('token-admitted', 'initial_access_token', t0));
      await store.insertClient(client('operator', 'admin', t0));
      await store.recordClientUse('used', t0 + HOUR);
      clock.advance(25 * HOUR);

      const first = await registration.reapIdleClients();
      assert.deepEqual(first, { byTier: { anonymous: 1 }, total: 1, clientIds: ['abandoned'] });
      assert.deepEqual(await ids(store), ['operator', 'recent', 'token-admitted', 'used']);
      assert.deepEqual(
        events.map((event) => [event.type, event.actor, event.detail]),
        [['client.reaped', 'reaper', { tier: 'anonymous', reason: 'never_used', count: 1, client_ids: ['abandoned'] }]],
      );

      clock.advance(91 * DAY);
      const second = await registration.reapIdleClients();
      assert.equal(second.total, 2);
      assert.deepEqual(await ids(store), ['operator', 'token-admitted']);
      assert.deepEqual(
        events.slice(1).map((event) => [event.detail?.reason, event.detail?.client_ids]),
        [
          ['never_used', ['recent']],
          ['unused', ['used']],
        ],
      );
    });

    it('deletes in batches, one client.reaped event per batch, persisted', async () => {
      const { store, clock, events, registration, t0 } = await setUp({ persistAuditEvents: true });
      const names = Array.from({ length: 7 }, (_, i) => `idle-${i}`);
      for (const name of names) await store.insertClient(client(name, 'anonymous', t0));
      clock.advance(2 * DAY);
      const report = await registration.reapIdleClients({ batchSize: 3 });
      assert.equal(report.total, 7);
      assert.deepEqual(report.clientIds.sort(), names);
      assert.deepEqual(await ids(store), []);
      assert.deepEqual(
        events.map((event) => event.detail?.count),
        [3, 3, 1],
      );
      await eventually(
        () => store.listAuditEvents({ type: 'client.reaped' }),
        (trail) => assert.deepEqual(trail.map((event) => event.detail?.count).sort(), [1, 3, 3]),
      );
    });

    it('a dry run deletes nothing; a client used since it was listed is kept by the real run', async () => {
      const { store, clock, events, registration, t0 } = await setUp();
      for (const name of ['a', 'b', 'c']) await store.insertClient(client(name, 'anonymous', t0));
      clock.advance(2 * DAY);
      const dry = await registration.reapIdleClients({ dryRun: true });
      assert.equal(dry.total, 3);
      assert.deepEqual(dry.byTier, { anonymous: 3 });
      assert.deepEqual([...dry.clientIds].sort(), ['a', 'b', 'c']);
      assert.deepEqual(await ids(store), ['a', 'b', 'c']);
      assert.deepEqual(events, [], 'a dry run emits nothing');

      // b comes back between the dry run and the real one: the delete checks the rule again.
      await store.recordClientUse('b', clock.now());
      const real = await registration.reapIdleClients();
      assert.deepEqual([...real.clientIds].sort(), ['a', 'c']);
      assert.deepEqual(await ids(store), ['b']);
    });

    it("a tier's own rule reaps it; false keeps a tier", async () => {
      const { store, clock, registration, t0 } = await setUp({
        idleClients: { initial_access_token: { neverUsedWithin: HOUR }, anonymous: false },
      });
      await store.insertClient(client('token-admitted', 'initial_access_token', t0));
      await store.insertClient(client('anonymous', 'anonymous', t0));
      clock.advance(2 * HOUR);
      const report = await registration.reapIdleClients();
      assert.deepEqual(report.byTier, { initial_access_token: 1 });
      assert.deepEqual(await ids(store), ['anonymous']);
    });

    it('prunes audit events older than the retention, in batches', async () => {
      const { store, registration, t0 } = await setUp({ auditRetention: 30 * DAY });
      const old = 1003;
      // Appended together: the SQL stores commit concurrent writes as a group.
      await Promise.all(
        Array.from({ length: old }, (_, i) =>
          store.appendAuditEvent({ type: 'registration.rejected', at: t0 - 31 * DAY + i }),
        ),
      );
      await store.appendAuditEvent({ type: 'client.registered', at: t0 - 29 * DAY, clientId: 'kept' });
      assert.equal(await registration.pruneAuditEvents(), old);
      const left = await store.listAuditEvents({ limit: 10_000 });
      assert.deepEqual(
        left.map((event) => event.clientId),
        ['kept'],
      );
      assert.equal(await registration.pruneAuditEvents(), 0);
    });
  });
}

describe('lifecycle options are checked once, at start-up', () => {
  const store = memoryStore();
  const bad: Array<[string, Partial<RegistrationOptions>]> = [
    ['a rule under an hour', { idleClients: { anonymous: { neverUsedWithin: 60 } } }],
    ['a fractional rule', { idleClients: { anonymous: { unusedFor: 3600.5 } } }],
    ['an unknown tier', { idleClients: { robots: { unusedFor: DAY } } as never }],
    ['a rule that is not an object', { idleClients: { anonymous: 'soon' as never } }],
    ['a retention under an hour', { auditRetention: 10 }],
    ['a negative retention', { auditRetention: -1 }],
  ];
  for (const [name, options] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => createRegistration({ store, ...options }), TypeError);
    });
  }

  it('keeps the default of a rule left out, and retention 0 keeps every event', async () => {
    const clock = testClock();
    const registration = createRegistration({
      store,
      now: clock.now,
      idleClients: { anonymous: { neverUsedWithin: 2 * HOUR } },
      auditRetention: 0,
    });
    await store.insertClient(client('used-long-ago', 'anonymous', clock.now()));
    await store.recordClientUse('used-long-ago', clock.now());
    await store.appendAuditEvent({ type: 'registration.rejected', at: clock.now() });
    clock.advance(100 * DAY);
    // The default 90-day unusedFor still holds for anonymous clients.
    assert.deepEqual((await registration.reapIdleClients()).clientIds, ['used-long-ago']);
    assert.equal(await registration.pruneAuditEvents(), 0);
    await assert.rejects(registration.reapIdleClients({ batchSize: 0 }), TypeError);
  });
});

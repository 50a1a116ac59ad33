import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { migrateToLatest, sqliteStore, type SqliteClientStore } from '../../src/store/sqlite.js';
import type { SqliteConnection, SqliteStoreOptions } from '../../src/store/sqlite.js';
import type { ClientRecord, ClientStore } from '../../src/store/types.js';
import { clientStoreContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(dir, `store-${++files}.db`);

function sqliteContract(name: string, options: Omit<SqliteStoreOptions, 'path'>): void {
  clientStoreContract(name, async () => sqliteStore({ path: newPath(), ...options }), {
    openAnother: async (store: ClientStore) => sqliteStore({ path: (store as SqliteClientStore).path, ...options }),
  });
}

sqliteContract('sqlite', {});
// One commit per write: the path group commit falls back to when a batch fails.
sqliteContract('sqlite, group commit off', { groupCommit: false });

const T0 = 1_700_000_000;
/** Takes a database back to the schema as 0003 left it (what an instance one version behind knows). */
const UNDO_0004 = `
  drop index dcr_clients_idle; drop index dcr_clients_fingerprint; drop index dcr_audit_events_at;
  drop trigger dcr_clients_insert_tier_counted; drop trigger dcr_clients_delete_tier_counted;
  drop trigger dcr_clients_update_tier_counted; drop table dcr_client_counts;
  alter table dcr_clients drop column disabled_at;
  alter table dcr_clients drop column registration_fingerprint;
  alter table dcr_clients drop column granted_rights;
  delete from dcr_migrations where name = '0004_client_lifecycle';`;
function client(clientId: string): ClientRecord {
  return {
    clientId,
    metadata: { redirect_uris: ['http://127.0.0.1/cb'] },
    clientIdIssuedAt: T0,
    clientSecretExpiresAt: 0,
    registeredVia: 'anonymous',
    createdAt: T0,
    updatedAt: T0,
  };
}

describe('sqlite store', () => {
  it('opens the file in WAL mode with synchronous = FULL, busy_timeout and foreign keys', async () => {
    const store = sqliteStore({ path: newPath(), busyTimeoutMs: 1234 });
    try {
      await store.ready;
      assert.equal(store.sqlite.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(store.sqlite.pragma('synchronous', { simple: true }), 2);
      assert.equal(store.sqlite.pragma('busy_timeout', { simple: true }), 1234);
      assert.equal(store.sqlite.pragma('foreign_keys', { simple: true }), 1);
    } finally {
      await store.close();
    }
  });

  it('is usable without awaiting anything first', async () => {
    const store = sqliteStore(newPath());
    try {
      await store.insertClient(client('immediate'));
      assert.equal((await store.findClient('immediate'))!.clientId, 'immediate');
    } finally {
      await store.close();
    }
  });

  it('upgrades a database from before client revisions: its clients read as revision 0 and take a compare-and-set', async () => {
    const path = newPath();
    const old = sqliteStore(path);
    await old.insertClient(client('from-before'));
    await old.close();
    // The schema as 0002 left it: no revision column, 0003 not recorded.
    const raw = new BetterSqlite3(path);
    raw.exec(UNDO_0004);
    raw.exec(
      "alter table dcr_clients drop column revision; delete from dcr_migrations where name = '0003_client_revision'",
    );
    raw.close();

    const upgraded = sqliteStore(path);
    try {
      const read = (await upgraded.findClient('from-before'))!;
      assert.deepStrictEqual(read, client('from-before'));
      assert.equal(await upgraded.replaceClient({ ...read, updatedAt: T0 + 1 }, read), true);
      assert.equal(await upgraded.replaceClient({ ...read, updatedAt: T0 + 2 }, read), false);
      assert.equal((await upgraded.findClient('from-before'))!.revision, 1);
    } finally {
      await upgraded.close();
    }
  });

  it('upgrades a database from before 0004 while an instance one version behind keeps writing', async () => {
    const path = newPath();
    const old = sqliteStore(path);
    await old.insertClient(client('from-before'));
    await old.close();
    const raw = new BetterSqlite3(path);
    raw.exec(UNDO_0004);

    const upgraded = sqliteStore(path);
    try {
      await upgraded.ready;
      // What code one version behind writes: none of the new columns.
      raw
        .prepare(
          'insert into dcr_clients (client_id, metadata, client_id_issued_at, client_secret_expires_at, ' +
            "registered_via, created_at, updated_at) values ('older-instance', '{}', ?, 0, 'anonymous', ?, ?)",
        )
        .run(T0, T0, T0);
      raw
        .prepare("update dcr_clients set updated_at = ?, revision = revision + 1 where client_id = 'from-before'")
        .run(T0 + 1);
      assert.deepStrictEqual(await upgraded.findClient('from-before'), {
        ...client('from-before'),
        updatedAt: T0 + 1,
        revision: 1,
      });
      const older = (await upgraded.findClient('older-instance'))!;
      for (const field of ['disabledAt', 'registrationFingerprint', 'grantedRights'])
        assert.equal(field in older, false);
      assert.equal(await upgraded.setClientDisabled('older-instance', T0 + 2), true);
      // Counted from the rows there were, then by the triggers, whoever writes.
      assert.deepStrictEqual(await upgraded.countClients(), { total: 2, byTier: { anonymous: 2 } });
      raw.prepare("update dcr_clients set registered_via = 'admin' where client_id = 'older-instance'").run();
      raw.prepare("delete from dcr_clients where client_id = 'from-before'").run();
      assert.deepStrictEqual(await upgraded.countClients(), { total: 1, byTier: { admin: 1 } });
      const indexes = raw
        .prepare("select name from sqlite_master where type = 'index' and name like 'dcr_%' order by name")
        .pluck()
        .all();
      assert.deepEqual(indexes, [
        'dcr_audit_events_at',
        'dcr_audit_events_client_id',
        'dcr_clients_fingerprint',
        'dcr_clients_idle',
      ]);
    } finally {
      raw.close();
      await upgraded.close();
    }
  });

  it('applies migrations once; migrate: false leaves the file alone', async () => {
    const path = newPath();
    const bare = sqliteStore({ path, migrate: false });
    try {
      await assert.rejects(bare.findClient('x'), /no such table/);
      assert.deepEqual(await migrateToLatest(bare.db), [
        '0001_initial',
        '0002_sqlite_client_changes',
        '0003_client_revision',
        '0004_client_lifecycle',
      ]);
      assert.deepEqual(await migrateToLatest(bare.db, { dialect: bare.dialect }), []);
      assert.equal(await bare.findClient('x'), null);
    } finally {
      await bare.close();
    }
  });

  it('migrates safely when several stores open a new file at once', async () => {
    const path = newPath();
    const stores = Array.from({ length: 4 }, () => sqliteStore(path));
    try {
      await Promise.all(stores.map((store) => store.ready));
      await stores[0]!.insertClient(client('shared'));
      for (const store of stores) assert.equal((await store.findClient('shared'))!.clientId, 'shared');
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('keeps its writes out of a Kysely transaction someone else opened on store.db', async () => {
    const store = sqliteStore(newPath());
    try {
      await store.ready;
      let insert: Promise<void> | undefined;
      await assert.rejects(
        store.db.transaction().execute(async (trx) => {
          await trx.insertInto('dcr_audit_events').values({ type: 'client.read', at: T0 }).execute();
          insert = store.insertClient(client('outside'));
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('roll back');
        }),
        /roll back/,
      );
      await insert;
      assert.equal((await store.findClient('outside'))!.clientId, 'outside');
      assert.deepEqual(await store.listAuditEvents(), []);
    } finally {
      await store.close();
    }
  });

  it('commits concurrent inserts in fewer transactions than writes (group commit)', async () => {
    const store = sqliteStore(newPath());
    try {
      await store.ready;
      // Every commit appends at least one frame to the WAL; with checkpoints off it only grows.
      store.sqlite.pragma('wal_autocheckpoint = 0');
      const pageSize = Number(store.sqlite.pragma('page_size', { simple: true }));
      const walFrames = () => (statSync(`${store.path}-wal`).size - 32) / (24 + pageSize);
      const start = walFrames();
      await Promise.all(Array.from({ length: 64 }, (_, i) => store.insertClient(client(`batch-${i}`))));
      const frames = walFrames() - start;
      assert.equal((await store.listClients({ limit: 100 })).length, 64);
      assert.ok(frames > 0 && frames < 64, `64 one-row commits would write at least 64 WAL frames; wrote ${frames}`);
    } finally {
      await store.close();
    }
  });

  it("runs a caller's write through the same commit path (executeWrite)", async () => {
    const store = sqliteStore(newPath());
    try {
      const inserted = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          store.executeWrite(
            store.db
              .insertInto('dcr_audit_events')
              .values({ type: 'client.read', at: T0 + i })
              .returning('id'),
          ),
        ),
      );
      assert.deepEqual(
        inserted.map((result) => Number(result.rows[0]!.id)),
        [1, 2, 3, 4, 5],
      );
      assert.equal((await store.listAuditEvents()).length, 5);
    } finally {
      await store.close();
    }
  });

  it('writes recorded uses for other connections on flushClientUses()', async () => {
    const store = sqliteStore(newPath());
    const other = sqliteStore(store.path);
    try {
      await store.insertClient(client('used'));
      await store.recordClientUse('used', T0 + 9);
      assert.equal((await other.findClient('used'))!.lastUsedAt, undefined);
      await store.flushClientUses();
      assert.equal((await other.findClient('used'))!.lastUsedAt, T0 + 9);
    } finally {
      await other.close();
      await store.close();
    }
  });

  it('rejects the writers of a batch that cannot commit, and keeps working', async () => {
    const store = sqliteStore({ path: newPath(), busyTimeoutMs: 20 });
    await store.ready;
    // Another connection (another process, say) holds the write lock past busy_timeout.
    const blocker = new BetterSqlite3(store.path);
    try {
      blocker.exec('BEGIN IMMEDIATE');
      const outcomes = await Promise.allSettled([
        store.insertClient(client('busy-1')),
        store.insertClient(client('busy-2')),
      ]);
      assert.deepEqual(
        outcomes.map((outcome) => outcome.status === 'rejected' && (outcome.reason as { code?: string }).code),
        ['SQLITE_BUSY', 'SQLITE_BUSY'],
      );
      blocker.exec('ROLLBACK');
      await Promise.all([store.insertClient(client('busy-1')), store.insertClient(client('busy-2'))]);
      assert.equal((await store.listClients()).length, 2);
    } finally {
      blocker.close();
      await store.close();
    }
  });

  describe('client record cache', () => {
    const renameIn = (sqlite: SqliteConnection, clientId: string, name: string) =>
      sqlite
        .prepare('update dcr_clients set metadata = ? where client_id = ?')
        .run(JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], client_name: name }), clientId);

    it('answers repeated lookups with the same frozen record until something writes', async () => {
      const store = sqliteStore(newPath());
      try {
        await store.insertClient(client('cached'));
        const first = await store.findClient('cached');
        assert.equal(await store.findClient('cached'), first);
        await store.insertClient(client('another'));
        const afterWrite = await store.findClient('cached');
        assert.notEqual(afterWrite, first);
        assert.deepStrictEqual(afterWrite, first);
      } finally {
        await store.close();
      }
    });

    it('sees writes made through its own connection outside the store (db and the raw handle)', async () => {
      const store = sqliteStore(newPath());
      try {
        await store.insertClient(client('shared'));
        assert.equal((await store.findClient('shared'))!.metadata.client_name, undefined);
        await store.db
          .updateTable('dcr_clients')
          .set({ metadata: JSON.stringify({ client_name: 'via kysely' }) })
          .where('client_id', '=', 'shared')
          .execute();
        assert.equal((await store.findClient('shared'))!.metadata.client_name, 'via kysely');
        renameIn(store.sqlite, 'shared', 'via the raw handle');
        assert.equal((await store.findClient('shared'))!.metadata.client_name, 'via the raw handle');
        store.sqlite.prepare('delete from dcr_clients where client_id = ?').run('shared');
        assert.equal(await store.findClient('shared'), null);
      } finally {
        await store.close();
      }
    });

    it('sees a commit by another connection at the next lookup', async () => {
      const store = sqliteStore(newPath());
      await store.insertClient(client('elsewhere'));
      const other = new BetterSqlite3(store.path);
      try {
        await store.findClient('elsewhere');
        renameIn(other, 'elsewhere', 'renamed elsewhere');
        assert.equal((await store.findClient('elsewhere'))!.metadata.client_name, 'renamed elsewhere');
      } finally {
        other.close();
        await store.close();
      }
    });

    it('does not keep a record read just before a change that another lookup has already noticed', async () => {
      const store = sqliteStore(newPath());
      await store.insertClient(client('raced'));
      await store.insertClient(client('bystander'));
      const other = new BetterSqlite3(store.path);
      try {
        // The lookup reads the row at once but settles later; meanwhile the row changes and a
        // second lookup sees the change (emptying the cache). The first result must not be cached.
        const early = store.findClient('raced');
        renameIn(other, 'raced', 'changed meanwhile');
        await store.findClient('bystander');
        assert.equal((await early)!.metadata.client_name, undefined);
        assert.equal((await store.findClient('raced'))!.metadata.client_name, 'changed meanwhile');
      } finally {
        other.close();
        await store.close();
      }
    });

    it('is left alone by writes to other tables (tokens, audit events)', async () => {
      const store = sqliteStore(newPath());
      try {
        await store.insertClient(client('steady'));
        const first = await store.findClient('steady');
        await store.appendAuditEvent({ type: 'client.read', at: T0, clientId: 'steady' });
        await store.insertInitialAccessToken({
          id: 'iat',
          tokenHash: 'a'.repeat(64),
          usesRemaining: 1,
          expiresAt: null,
          createdAt: T0,
        });
        assert.equal(await store.findClient('steady'), first);
      } finally {
        await store.close();
      }
    });

    it('keeps at most 16 Mi characters of metadata, dropping the least recently used first', async () => {
      const store = sqliteStore(newPath());
      const padding = 'x'.repeat(60_000);
      const ids = Array.from({ length: 300 }, (_, i) => `big-${i}`);
      try {
        await Promise.all(ids.map((id) => store.insertClient({ ...client(id), metadata: { client_name: padding } })));
        const firstReads = new Map<string, unknown>();
        for (const id of ids) firstReads.set(id, await store.findClient(id));
        // 300 x 60 000 characters is over the budget: the first ones read have gone, the last stay.
        assert.notEqual(await store.findClient(ids[0]!), firstReads.get(ids[0]!));
        assert.equal(await store.findClient(ids[299]!), firstReads.get(ids[299]!));
      } finally {
        await store.close();
      }
    });

    it('refuses a clientCacheSize that is not a non-negative integer', () => {
      for (const size of [Number.NaN, -1, 1.5]) {
        assert.throws(() => sqliteStore({ path: newPath(), clientCacheSize: size }), TypeError);
      }
    });

    it('can be turned off', async () => {
      const store = sqliteStore({ path: newPath(), clientCacheSize: 0 });
      try {
        await store.insertClient(client('uncached'));
        const first = await store.findClient('uncached');
        const second = await store.findClient('uncached');
        assert.notEqual(second, first);
        assert.deepStrictEqual(second, first);
      } finally {
        await store.close();
      }
    });
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { migrateToLatest, postgresStore, type PostgresClientStore } from '../../src/store/postgres.js';
import type { ClientStore } from '../../src/store/types.js';
import { requireService } from '../support/services.js';
import { clientStoreContract } from './contract.js';

const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);

if (url) {
  // Each store gets its own schema so tests cannot see each other's rows; all of them are
  // dropped when the run ends.
  const run = `dcr_test_${randomBytes(5).toString('hex')}`;
  const schemas: string[] = [];
  const newSchema = () => {
    const schema = `${run}_${schemas.length + 1}`;
    schemas.push(schema);
    return schema;
  };
  async function dropSchemas(): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.end();
    }
  }
  after(dropSchemas);

  clientStoreContract('postgres', async () => postgresStore({ connectionString: url, schema: newSchema(), max: 4 }), {
    // A second store has its own pool: another server instance.
    openAnother: async (store: ClientStore) =>
      postgresStore({ connectionString: url, schema: (store as PostgresClientStore).schema!, max: 4 }),
  });

  describe('postgres store', () => {
    it('migrates safely when several stores open a new schema at once', async () => {
      const schema = newSchema();
      const stores = Array.from({ length: 4 }, () => postgresStore({ connectionString: url, schema, max: 2 }));
      try {
        await Promise.all(stores.map((store) => store.ready));
        assert.deepEqual(await migrateToLatest(stores[0]!.db, { schema }), []);
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    });

    it('uses a pool it is given without ending it or changing its type parsers', async () => {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      try {
        const store = postgresStore({ pool, schema: newSchema() });
        await store.insertInitialAccessToken({
          id: 'iat',
          tokenHash: 'h',
          usesRemaining: 1,
          expiresAt: 4_102_444_800,
          createdAt: 1_700_000_000,
        });
        assert.equal((await store.listInitialAccessTokens())[0]!.expiresAt, 4_102_444_800);
        await store.close();
        const { rows } = await pool.query<{ big: unknown }>('select 4102444800::bigint as big');
        assert.equal(rows[0]!.big, '4102444800');
      } finally {
        await pool.end();
      }
    });

    it('writes recorded uses for other instances on flushClientUses()', async () => {
      const schema = newSchema();
      const store = postgresStore({ connectionString: url, schema, max: 2 });
      const other = postgresStore({ connectionString: url, schema, max: 2 });
      try {
        const clientIds = ['used-a', 'used-b'];
        for (const clientId of clientIds) {
          await store.insertClient({
            clientId,
            metadata: {},
            clientIdIssuedAt: 1_700_000_000,
            clientSecretExpiresAt: 0,
            registeredVia: 'anonymous',
            createdAt: 1_700_000_000,
            updatedAt: 1_700_000_000,
          });
          await store.recordClientUse(clientId, 4_102_444_800);
        }
        assert.equal((await other.findClient('used-a'))!.lastUsedAt, undefined);
        await store.flushClientUses();
        for (const clientId of clientIds) assert.equal((await other.findClient(clientId))!.lastUsedAt, 4_102_444_800);
      } finally {
        await other.close();
        await store.close();
      }
    });

    it('upgrades a schema from before 0004 while an instance one version behind keeps writing', async () => {
      const schema = newSchema();
      const old = postgresStore({ connectionString: url, schema, max: 2 });
      const clientRow = (clientId: string) => ({
        clientId,
        metadata: {},
        clientIdIssuedAt: 1_700_000_000,
        clientSecretExpiresAt: 0,
        registeredVia: 'anonymous' as const,
        createdAt: 1_700_000_000,
        updatedAt: 1_700_000_000,
      });
      await old.insertClient(clientRow('from-before'));
      // The schema as 0003 left it.
      await old.pool.query(
        `drop index "${schema}".dcr_clients_idle; drop index "${schema}".dcr_clients_fingerprint;
         drop index "${schema}".dcr_audit_events_at;
         alter table "${schema}".dcr_clients drop column disabled_at, drop column registration_fingerprint,
           drop column granted_rights;
         delete from "${schema}".dcr_migrations where name = '0004_client_lifecycle'`,
      );
      await old.close();

      const upgraded = postgresStore({ connectionString: url, schema, max: 2 });
      const olderInstance = new pg.Client({ connectionString: url });
      await olderInstance.connect();
      try {
        await upgraded.ready;
        // What code one version behind writes: none of the new columns.
        await olderInstance.query(
          `insert into "${schema}".dcr_clients (client_id, metadata, client_id_issued_at, client_secret_expires_at,
             registered_via, created_at, updated_at) values ('older-instance', '{}', 1700000000, 0, 'anonymous', 1700000000, 1700000000)`,
        );
        await olderInstance.query(
          `update "${schema}".dcr_clients set updated_at = 1700000001, revision = revision + 1 where client_id = 'from-before'`,
        );
        assert.deepStrictEqual(await upgraded.findClient('from-before'), {
          ...clientRow('from-before'),
          updatedAt: 1_700_000_001,
          revision: 1,
        });
        assert.deepStrictEqual(await upgraded.findClient('older-instance'), clientRow('older-instance'));
        assert.equal(await upgraded.setClientDisabled('older-instance', 1_700_000_002), true);
        assert.deepStrictEqual(await upgraded.countClients(), { total: 2, byTier: { anonymous: 2 } });
        const { rows } = await olderInstance.query<{ indexname: string }>(
          "select indexname from pg_indexes where schemaname = $1 and indexname ~ '^dcr_(clients|audit_events)_(at|client_id|fingerprint|idle)$' order by indexname",
          [schema],
        );
        assert.deepEqual(
          rows.map((row) => row.indexname),
          ['dcr_audit_events_at', 'dcr_audit_events_client_id', 'dcr_clients_fingerprint', 'dcr_clients_idle'],
        );
      } finally {
        await olderInstance.end();
        await upgraded.close();
      }
    });

    it('keeps an idle client whose use another transaction commits while the reaper waits to delete it', async () => {
      // The delete re-checks the rule on the row version it finally locks (READ COMMITTED), not only
      // in the snapshot its batch was picked from.
      const schema = newSchema();
      const store = postgresStore({ connectionString: url, schema, max: 2 });
      const server = new pg.Client({ connectionString: url });
      await server.connect();
      try {
        for (const clientId of ['used-meanwhile', 'stale']) {
          await store.insertClient({
            clientId,
            metadata: {},
            clientIdIssuedAt: 1_700_000_000,
            clientSecretExpiresAt: 0,
            registeredVia: 'anonymous',
            createdAt: 1_700_000_000,
            updatedAt: 1_700_000_000,
          });
        }
        await server.query('begin');
        await server.query(
          `update "${schema}".dcr_clients set last_used_at = 1800000000 where client_id = 'used-meanwhile'`,
        );
        const query = { registeredVia: 'anonymous', neverUsedCreatedBefore: 1_750_000_000, limit: 10 } as const;
        const deleting = store.deleteIdleClients(query);
        // Wait until the delete is blocked on the row the open transaction holds.
        for (let waited = 0; ; waited++) {
          // Inside a transaction, pg_stat_activity is read once and kept unless the snapshot is cleared.
          await server.query('select pg_stat_clear_snapshot()');
          const { rows } = await server.query<{ waiting: number }>(
            "select count(*)::int as waiting from pg_stat_activity where wait_event_type = 'Lock' and query like $1",
            [`delete from "${schema}".%`],
          );
          if (rows[0]!.waiting > 0) break;
          if (waited > 200) throw new Error('the delete never waited for the row lock');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await server.query('commit');
        assert.deepEqual(await deleting, ['stale']);
        assert.equal((await store.findClient('used-meanwhile'))!.lastUsedAt, 1_800_000_000);
      } finally {
        await server.end();
        await store.close();
      }
    });

    it('creates its tables in the schema it is given, not in the search_path', async () => {
      const schema = newSchema();
      const store = postgresStore({ connectionString: url, schema });
      try {
        await store.ready;
        const { rows } = await store.pool.query<{ table_name: string }>(
          'select table_name from information_schema.tables where table_schema = $1 order by table_name',
          [schema],
        );
        assert.deepEqual(
          rows.map((row) => row.table_name),
          ['dcr_audit_events', 'dcr_clients', 'dcr_initial_access_tokens', 'dcr_migrations', 'dcr_migrations_lock'],
        );
      } finally {
        await store.close();
      }
    });
  });
}

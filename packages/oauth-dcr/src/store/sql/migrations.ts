import { type Kysely, Migrator, PostgresAdapter, SqliteAdapter, sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely';
import type { SqlDialectName } from './schema.js';

/** Kysely's bookkeeping tables, renamed so that everything this library owns starts with `dcr_`. */
export const MIGRATION_TABLE = 'dcr_migrations';
const MIGRATION_LOCK_TABLE = 'dcr_migrations_lock';

/**
 * The schema history, oldest first. Names sort in application order. A released migration is never
 * edited, only followed by a new one, and migrations only add (tables, nullable columns, indexes),
 * so code one version behind keeps working during a rolling upgrade. Each builder gets the dialect
 * because a few column definitions differ (identity columns, collation).
 */
const MIGRATIONS: ReadonlyArray<readonly [name: string, build: (dialect: SqlDialectName) => Migration]> = [
  ['0001_initial', initialSchema],
  ['0002_sqlite_client_changes', clientChangeCounter],
  ['0003_client_revision', clientRevision],
  ['0004_client_lifecycle', clientLifecycle],
];

/** Every migration name, in order: lets a store see cheaply that a database is up to date. */
export const MIGRATION_NAMES: readonly string[] = MIGRATIONS.map(([name]) => name);

function initialSchema(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('dcr_clients')
        // Keyset pagination compares client ids. PostgreSQL would otherwise use the database's
        // locale collation; "C" compares bytes, like SQLite's default BINARY collation, so every
        // backend lists clients in the same (code point) order.
        .addColumn('client_id', 'text', (col) =>
          (dialect === 'postgres' ? col.modifyFront(sql`collate "C"`) : col).primaryKey(),
        )
        .addColumn('metadata', 'text', (col) => col.notNull())
        .addColumn('client_id_issued_at', 'bigint', (col) => col.notNull())
        .addColumn('client_secret_hash', 'text')
        .addColumn('client_secret_expires_at', 'bigint', (col) => col.notNull())
        .addColumn('previous_secret_hash', 'text')
        .addColumn('previous_secret_expires_at', 'bigint')
        .addColumn('registration_access_token_hash', 'text')
        .addColumn('registered_via', 'text', (col) => col.notNull())
        .addColumn('registered_by', 'text')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();

      await db.schema
        .createTable('dcr_initial_access_tokens')
        .addColumn('id', 'text', (col) =>
          // Listed by created_at then id; "C" keeps ties in the same order as on SQLite.
          (dialect === 'postgres' ? col.modifyFront(sql`collate "C"`) : col).primaryKey(),
        )
        .addColumn('token_hash', 'text', (col) => col.notNull().unique())
        .addColumn('label', 'text')
        .addColumn('uses_remaining', 'integer')
        .addColumn('expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();

      await db.schema
        .createTable('dcr_audit_events')
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (col) =>
          // SQLite: AUTOINCREMENT so ids of pruned events are never handed out again.
          dialect === 'postgres' ? col.generatedAlwaysAsIdentity().primaryKey() : col.primaryKey().autoIncrement(),
        )
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('at', 'bigint', (col) => col.notNull())
        .addColumn('client_id', 'text')
        .addColumn('actor', 'text')
        .addColumn('ip', 'text')
        .addColumn('detail', 'text')
        .execute();

      await db.schema
        .createIndex('dcr_audit_events_client_id')
        .on('dcr_audit_events')
        .columns(['client_id', 'id'])
        .execute();
    },
  };
}

/**
 * SQLite only: a counter that every insert, update and delete on dcr_clients moves, from any
 * connection or process, in the same transaction as the change. The SQLite store's client cache
 * reads it before trusting what it holds (src/store/sql/sqlite-client-cache.ts). PostgreSQL has no
 * such cache; the migration is a no-op there.
 */
function clientChangeCounter(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect !== 'sqlite') return;
      await sql`create table dcr_client_changes (id integer primary key check (id = 1), version integer not null)`.execute(
        db,
      );
      await sql`insert into dcr_client_changes (id, version) values (1, 0)`.execute(db);
      for (const change of ['insert', 'update', 'delete'] as const) {
        await sql
          .raw(
            `create trigger dcr_clients_${change}_counted after ${change} on dcr_clients ` +
              'begin update dcr_client_changes set version = version + 1 where id = 1; end',
          )
          .execute(db);
      }
    },
  };
}

/**
 * A revision per client, which replaceClient's compare-and-set checks and moves (see
 * queries.updateClient). NOT NULL with a default rather than nullable: inserts by code one version
 * behind (which does not know the column) still work during a rolling upgrade, and every row reads
 * as a number.
 */
function clientRevision(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('dcr_clients')
        .addColumn('revision', 'bigint', (col) => col.notNull().defaultTo(0))
        .execute();
    },
  };
}

/**
 * Operator tools and the idle-client reaper (issue 11): nullable columns for a disabled client, its
 * de-duplication fingerprint and operator-granted rights, and the indexes their queries need.
 * Only additions, so an instance one version behind keeps inserting and updating clients during a
 * rolling upgrade (it leaves the new columns NULL or as they are).
 *
 * - dcr_clients_idle (registered_via, last_used_at, created_at): countClients groups over its first
 *   column, and the reaper's two rules are range scans on it: `via = ? and last_used_at is null and
 *   created_at < ?` and `via = ? and last_used_at < ?`, each in index order, so a batch of 500
 *   among a million clients reads about 500 index entries.
 * - dcr_clients_fingerprint, partial: most deployments never set a fingerprint, and a NULL-only
 *   index would cost every registration a write for nothing.
 * - dcr_audit_events_at (at, id): audit retention deletes the oldest events in index order, and
 *   `--since` reads a recent range.
 *
 * - SQLite only: dcr_client_counts, clients per tier kept by triggers in the writer's own
 *   transaction (any connection or process, older code included). better-sqlite3 runs a query
 *   synchronously, so counting a million index entries for countClients every few seconds would
 *   stall the whole server each time; reading a few rows does not. PostgreSQL counts over
 *   dcr_clients_idle instead, asynchronously: a counter row there would serialize every
 *   registration of a tier, across instances, on its lock.
 *
 * On PostgreSQL, CREATE INDEX takes a lock that holds off writes to the table while it builds
 * (seconds for a million clients). CONCURRENTLY cannot run inside the migration's transaction.
 */
function clientLifecycle(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect === 'sqlite') await clientCountsBySqliteTriggers(db);
      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      for (const [column, type] of [
        ['disabled_at', 'bigint'],
        ['registration_fingerprint', 'text'],
        ['granted_rights', 'text'],
      ] as const) {
        await db.schema.alterTable('dcr_clients').addColumn(column, type).execute();
      }
      await db.schema
        .createIndex('dcr_clients_idle')
        .on('dcr_clients')
        .columns(['registered_via', 'last_used_at', 'created_at'])
        .execute();
      await db.schema
        .createIndex('dcr_clients_fingerprint')
        .on('dcr_clients')
        .columns(['registration_fingerprint', 'created_at'])
        .where(sql.ref('registration_fingerprint'), 'is not', null)
        .execute();
      await db.schema.createIndex('dcr_audit_events_at').on('dcr_audit_events').columns(['at', 'id']).execute();
    },
  };
}

/** SQLite: see clientLifecycle. Runs inside migrateToLatest's BEGIN IMMEDIATE, so the first counts are exact. */
async function clientCountsBySqliteTriggers(db: Kysely<any>): Promise<void> {
  await sql`create table dcr_client_counts (registered_via text primary key, count integer not null)`.execute(db);
  await sql`insert into dcr_client_counts (registered_via, count) select registered_via, count(*) from dcr_clients group by registered_via`.execute(
    db,
  );
  const add = (tier: string) =>
    `insert or ignore into dcr_client_counts (registered_via, count) values (${tier}, 0); ` +
    `update dcr_client_counts set count = count + 1 where registered_via = ${tier};`;
  const remove = (tier: string) => `update dcr_client_counts set count = count - 1 where registered_via = ${tier};`;
  await sql
    .raw(
      `create trigger dcr_clients_insert_tier_counted after insert on dcr_clients begin ${add('new.registered_via')} end`,
    )
    .execute(db);
  await sql
    .raw(
      `create trigger dcr_clients_delete_tier_counted after delete on dcr_clients begin ${remove('old.registered_via')} end`,
    )
    .execute(db);
  await sql
    .raw(
      'create trigger dcr_clients_update_tier_counted after update of registered_via on dcr_clients ' +
        `when old.registered_via is not new.registered_via begin ${remove('old.registered_via')} ${add('new.registered_via')} end`,
    )
    .execute(db);
}

/** Options of `migrateToLatest`. */
export interface MigrateOptions {
  /** Detected from the Kysely instance when omitted. */
  dialect?: SqlDialectName;
  /** PostgreSQL only: the schema holding the tables (created when missing). */
  schema?: string;
}

/**
 * Brings the schema up to date and resolves the names of the migrations it applied.
 *
 * Several processes may start at once (two instances of the server, or the CLI next to a server),
 * so the run is serialised by the database itself: on PostgreSQL with an advisory lock keyed on the
 * schema, taken before the schema and Kysely's bookkeeping tables are created (their
 * `create ... if not exists` is not race-free there); on SQLite with `BEGIN IMMEDIATE`, which holds
 * the file's write lock for the whole run (Kysely runs SQLite migrations without a transaction).
 */
export async function migrateToLatest(db: Kysely<any>, options: MigrateOptions = {}): Promise<string[]> {
  const dialect = options.dialect ?? detectDialect(db);
  const schema = options.schema;
  return db.connection().execute(async (connection) => {
    if (dialect === 'postgres') {
      const lockKey = `oauth-dcr migrations ${schema ?? ''}`;
      await sql`select pg_advisory_lock(hashtextextended(${lockKey}, 0))`.execute(connection);
      try {
        if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(connection);
        return await runMigratorDespiteDroppedSchemas(connection, schema);
      } finally {
        await sql`select pg_advisory_unlock(hashtextextended(${lockKey}, 0))`.execute(connection);
      }
    }
    await sql`begin immediate`.execute(connection);
    try {
      const applied = await runMigrator(connection, dialect, undefined);
      await sql`commit`.execute(connection);
      return applied;
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Opens without migrating when every migration this code knows is applied: no lock is taken on a
 * normal start, and during a rolling upgrade an older instance still starts against a schema a
 * newer one has extended (migrations only add). Otherwise runs migrateToLatest.
 */
export async function ensureMigrated(db: Kysely<any>, options: MigrateOptions = {}): Promise<void> {
  if (await isUpToDate(db, options.schema)) return;
  await migrateToLatest(db, options);
}

async function isUpToDate(db: Kysely<any>, schema: string | undefined): Promise<boolean> {
  try {
    const table = schema ? db.withSchema(schema) : db;
    const rows = await table.selectFrom(MIGRATION_TABLE).select('name').execute();
    const applied = new Set(rows.map((row: { name: string }) => row.name));
    return MIGRATION_NAMES.every((name) => applied.has(name));
  } catch {
    return false; // no bookkeeping table yet; a real connection problem resurfaces in migrateToLatest
  }
}

/**
 * Kysely's Migrator looks for its bookkeeping tables by introspecting every schema of the database
 * (`has_schema_privilege(name, ...)` per schema). A schema that another client drops during that
 * read fails it with 3F000 (invalid_schema_name), though it is not ours (ours was just created,
 * and nothing here drops it): tests of other suites sharing the database do that all the time.
 * The failed run rolled back its transaction, so it is simply run again.
 */
async function runMigratorDespiteDroppedSchemas(db: Kysely<any>, schema: string | undefined): Promise<string[]> {
  // A busy shared database (a CI run creating and dropping a schema per test) can drop one during
  // several reads in a row: retry for a while, a little later each time, before giving up.
  for (let attempt = 1; ; attempt++) {
    try {
      return await runMigrator(db, 'postgres', schema);
    } catch (error) {
      if (attempt >= MIGRATOR_ATTEMPTS || (error as { code?: unknown }).code !== '3F000') throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

/** Runs of the migrator before a dropped schema of someone else's is taken as our failure. */
const MIGRATOR_ATTEMPTS = 30;

async function runMigrator(db: Kysely<any>, dialect: SqlDialectName, schema: string | undefined): Promise<string[]> {
  const provider: MigrationProvider = {
    async getMigrations() {
      return Object.fromEntries(MIGRATIONS.map(([name, build]) => [name, build(dialect)]));
    },
  };
  const migrator = new Migrator({
    // The schema is applied here too, so a caller's plain Kysely instance still migrates the right one.
    db: schema ? db.withSchema(schema) : db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) throw error;
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

function detectDialect(db: Kysely<any>): SqlDialectName {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'postgres';
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  throw new TypeError('migrateToLatest supports SQLite and PostgreSQL Kysely instances only');
}

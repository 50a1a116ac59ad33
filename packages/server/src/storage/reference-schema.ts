import { sql, type ColumnType, type Kysely } from 'kysely';
import { createSessionTables, type RefPendingAuthorizationsTable, type RefSessionsTable } from './session-schema.js';

/**
 * The reference server's own tables, next to the client store's `dcr_` tables in the same
 * database; the `ref_` prefix keeps them apart from the library's. They are brought up to date at
 * start by the migrations below, in order, each recorded in `ref_migrations` once applied, so the
 * server needs no separate migration step. The first one creates tables only if missing, so a
 * database made before migrations were recorded takes it as a no-op.
 */

/** BIGINT epoch seconds: node-postgres returns BIGINT as a string, SQLite as a number. */
type EpochSeconds = ColumnType<number | string, number, number>;
type OptionalEpochSeconds = ColumnType<number | string | null, number | null, number | null>;

export interface RefUsersTable {
  id: string;
  username: string;
  password_hash: string;
  created_at: EpochSeconds;
}

export interface RefAuthorizationCodesTable {
  code_hash: string;
  grant_id: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  /** 0 or 1: portable across SQLite and PostgreSQL. */
  redirect_uri_sent: number;
  scope: string | null;
  /** Before 002: one resource. Kept for old rows' sake; `resources` is read. */
  resource: string | null;
  /** Space-separated canonical resources (../resources.ts). */
  resources: string | null;
  code_challenge: string | null;
  code_challenge_method: string | null;
  expires_at: EpochSeconds;
  created_at: EpochSeconds;
  used_at: OptionalEpochSeconds;
}

export interface RefTokensTable {
  token_hash: string;
  kind: string;
  grant_id: string;
  client_id: string;
  user_id: string | null;
  scope: string | null;
  /** Before 002: one resource. Kept for old rows' sake; `resources` is read. */
  resource: string | null;
  /** Space-separated canonical resources (../resources.ts). */
  resources: string | null;
  expires_at: EpochSeconds;
  created_at: EpochSeconds;
  revoked_at: OptionalEpochSeconds;
  /** Since 003: the refresh token this token's issuance rotated out (on its first row only). */
  replaces_token: string | null;
  /** Since 005: a refresh token's attested instance key thumbprint (../storage/records.ts). */
  instance_key: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface RefSigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
  created_at: EpochSeconds;
  retired_at: OptionalEpochSeconds;
}

export interface RefUsedClientAssertionsTable {
  /** client_id and jti together (RFC 7523 §3: a jti is unique per issuer). */
  assertion_key: string;
  expires_at: EpochSeconds;
}

export interface RefMigrationsTable {
  name: string;
  applied_at: EpochSeconds;
}

/** A type alias, not an interface: Kysely's withTables needs an index-signature-compatible type. */
export type ReferenceTables = {
  ref_users: RefUsersTable;
  ref_authorization_codes: RefAuthorizationCodesTable;
  ref_tokens: RefTokensTable;
  ref_signing_keys: RefSigningKeysTable;
  ref_used_client_assertions: RefUsedClientAssertionsTable;
  ref_sessions: RefSessionsTable;
  ref_pending_authorizations: RefPendingAuthorizationsTable;
  ref_migrations: RefMigrationsTable;
};

export type ReferenceDb = Kysely<ReferenceTables>;

/** A migration takes the database from the previous state to its own; it runs once. */
interface ReferenceMigration {
  name: string;
  up(db: ReferenceDb, dialect: 'sqlite' | 'postgres'): Promise<void>;
}

const MIGRATIONS: ReferenceMigration[] = [
  { name: '001_users_codes_tokens', up: createFirstTables },
  { name: '002_resources_signing_keys_client_assertions', up: addResourcesSigningKeysAndAssertions },
  { name: '003_token_issuance_links', up: addRotationLink },
  { name: '004_sessions_pending_authorizations', up: createSessionTables },
  { name: '005_token_instance_keys', up: addInstanceKeys },
];

/** The names of every migration, in order (for `migrate`'s report and the tests). */
export const REFERENCE_MIGRATIONS = MIGRATIONS.map((migration) => migration.name);

async function createFirstTables(target: ReferenceDb): Promise<void> {
  await target.schema
    .createTable('ref_users')
    .ifNotExists()
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('username', 'text', (col) => col.notNull().unique())
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();

  await target.schema
    .createTable('ref_authorization_codes')
    .ifNotExists()
    .addColumn('code_hash', 'text', (col) => col.primaryKey())
    .addColumn('grant_id', 'text', (col) => col.notNull())
    .addColumn('client_id', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('redirect_uri', 'text', (col) => col.notNull())
    .addColumn('redirect_uri_sent', 'integer', (col) => col.notNull())
    .addColumn('scope', 'text')
    .addColumn('resource', 'text')
    .addColumn('code_challenge', 'text')
    .addColumn('code_challenge_method', 'text')
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await target.schema
    .createIndex('ref_authorization_codes_client_id')
    .ifNotExists()
    .on('ref_authorization_codes')
    .column('client_id')
    .execute();
  await target.schema
    .createIndex('ref_authorization_codes_grant_id')
    .ifNotExists()
    .on('ref_authorization_codes')
    .column('grant_id')
    .execute();

  await target.schema
    .createTable('ref_tokens')
    .ifNotExists()
    .addColumn('token_hash', 'text', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('grant_id', 'text', (col) => col.notNull())
    .addColumn('client_id', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text')
    .addColumn('scope', 'text')
    .addColumn('resource', 'text')
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await target.schema.createIndex('ref_tokens_grant_id').ifNotExists().on('ref_tokens').column('grant_id').execute();
  await target.schema.createIndex('ref_tokens_client_id').ifNotExists().on('ref_tokens').column('client_id').execute();
  await target.schema
    .createIndex('ref_tokens_expires_at')
    .ifNotExists()
    .on('ref_tokens')
    .column('expires_at')
    .execute();
}

/**
 * RFC 8707: codes and tokens hold a list of resources (old rows keep their one resource, copied
 * over); RFC 9068: the access-token signing keys; RFC 7523: the jti of client assertions seen.
 */
async function addResourcesSigningKeysAndAssertions(target: ReferenceDb): Promise<void> {
  for (const table of ['ref_authorization_codes', 'ref_tokens'] as const) {
    await target.schema.alterTable(table).addColumn('resources', 'text').execute();
    await target
      .updateTable(table)
      .set({ resources: sql<string>`resource` })
      .where('resource', 'is not', null)
      .execute();
  }
  await target.schema
    .createTable('ref_signing_keys')
    .addColumn('kid', 'text', (col) => col.primaryKey())
    .addColumn('alg', 'text', (col) => col.notNull())
    .addColumn('public_jwk', 'text', (col) => col.notNull())
    .addColumn('private_jwk', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('retired_at', 'bigint')
    .execute();
  await target.schema
    .createTable('ref_used_client_assertions')
    .addColumn('assertion_key', 'text', (col) => col.primaryKey())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .execute();
  await target.schema
    .createIndex('ref_used_client_assertions_expires_at')
    .on('ref_used_client_assertions')
    .column('expires_at')
    .execute();
}

/**
 * The first row of a refresh rotation names the refresh token it replaces. On SQLite, a trigger
 * revokes that token as part of the INSERT itself: the INSERT is then one statement that joins the
 * client store's group commit like any other write, and a lost race (the token already revoked)
 * aborts that statement alone, never its batch. On PostgreSQL the store revokes it in the same
 * transaction instead (./sql-stores.ts); the column is filled on both, as a record of what each
 * rotation replaced.
 */
async function addRotationLink(target: ReferenceDb, dialect: 'sqlite' | 'postgres'): Promise<void> {
  await target.schema.alterTable('ref_tokens').addColumn('replaces_token', 'text').execute();
  if (dialect !== 'sqlite') return;
  // AFTER INSERT: RAISE(ABORT) undoes the whole statement, the inserted rows included.
  await sql`
    CREATE TRIGGER ref_tokens_replace_refresh_token AFTER INSERT ON ref_tokens
    WHEN NEW.replaces_token IS NOT NULL
    BEGIN
      SELECT RAISE(ABORT, ${sql.raw(`'${TOKEN_NOT_LIVE}'`)}) WHERE NOT EXISTS (
        SELECT 1 FROM ref_tokens
        WHERE token_hash = NEW.replaces_token AND kind = 'refresh' AND revoked_at IS NULL
      );
      UPDATE ref_tokens SET revoked_at = NEW.created_at WHERE token_hash = NEW.replaces_token;
    END`.execute(target);
}

/** Client attestation: refresh tokens bound to the attested instance key (draft §9.3). */
async function addInstanceKeys(target: ReferenceDb): Promise<void> {
  await target.schema.alterTable('ref_tokens').addColumn('instance_key', 'text').execute();
}

/** The SQLite trigger's error when a rotation lost the race (matched in ./sql-stores.ts). */
export const TOKEN_NOT_LIVE = 'ref_tokens: the replaced refresh token is not live';

/**
 * Applies the migrations not yet recorded, each with its record, so a failure leaves the database
 * as it was before that migration. Resolves the names applied.
 *
 * Several instances (or the CLI next to a server) may start at once, so the whole run, from
 * reading what is applied to recording it, is serialised by the database: on PostgreSQL by an
 * advisory lock (its `create table if not exists` is not race-free either), each migration in its
 * own transaction; on SQLite by one `BEGIN IMMEDIATE` transaction, which takes the file's write
 * lock before anything is read (a deferred BEGIN would let two processes both read "not applied"
 * and both apply it), as the client store's own migrations do.
 */
export async function migrateReferenceTables(db: ReferenceDb, dialect: 'sqlite' | 'postgres'): Promise<string[]> {
  const run = async (target: ReferenceDb, inOwnTransactions: boolean): Promise<string[]> => {
    await target.schema
      .createTable('ref_migrations')
      .ifNotExists()
      .addColumn('name', 'text', (col) => col.primaryKey())
      .addColumn('applied_at', 'bigint', (col) => col.notNull())
      .execute();
    const done = new Set((await target.selectFrom('ref_migrations').select('name').execute()).map((row) => row.name));
    const applied: string[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.name)) continue;
      const apply = async (trx: ReferenceDb) => {
        await migration.up(trx, dialect);
        await trx
          .insertInto('ref_migrations')
          .values({ name: migration.name, applied_at: Math.floor(Date.now() / 1000) })
          .execute();
      };
      if (inOwnTransactions) await target.transaction().execute(apply);
      else await apply(target);
      applied.push(migration.name);
    }
    return applied;
  };

  return db.connection().execute(async (connection) => {
    if (dialect === 'sqlite') {
      await sql`begin immediate`.execute(connection);
      try {
        const applied = await run(connection, false);
        await sql`commit`.execute(connection);
        return applied;
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => undefined);
        throw error;
      }
    }
    const key = 'oauth-dcr reference tables';
    await sql`select pg_advisory_lock(hashtextextended(${key}, 0))`.execute(connection);
    try {
      return await run(connection, true);
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended(${key}, 0))`.execute(connection);
    }
  });
}

import { sql, type ColumnType, type Kysely } from 'kysely';

/**
 * The reference server's own tables, next to the client store's `dcr_` tables in the same
 * database. They are created if missing at start (`create ... if not exists`), so the server
 * needs no migration step of its own; the `ref_` prefix keeps them apart from the library's.
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
  resource: string | null;
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
  resource: string | null;
  expires_at: EpochSeconds;
  created_at: EpochSeconds;
  revoked_at: OptionalEpochSeconds;
}

/** A type alias, not an interface: Kysely's withTables needs an index-signature-compatible type. */
export type ReferenceTables = {
  ref_users: RefUsersTable;
  ref_authorization_codes: RefAuthorizationCodesTable;
  ref_tokens: RefTokensTable;
};

export type ReferenceDb = Kysely<ReferenceTables>;

export async function createReferenceTables(db: ReferenceDb, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const create = async (target: ReferenceDb) => {
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
    await target.schema
      .createIndex('ref_tokens_client_id')
      .ifNotExists()
      .on('ref_tokens')
      .column('client_id')
      .execute();
    await target.schema
      .createIndex('ref_tokens_expires_at')
      .ifNotExists()
      .on('ref_tokens')
      .column('expires_at')
      .execute();
  };

  if (dialect === 'sqlite') return create(db);
  // PostgreSQL's `create table if not exists` is not race-free: two instances starting together
  // can both try. An advisory lock (the store's migrations use the same idea) serialises them.
  await db.connection().execute(async (connection) => {
    const key = 'oauth-dcr reference tables';
    await sql`select pg_advisory_lock(hashtextextended(${key}, 0))`.execute(connection);
    try {
      await create(connection);
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended(${key}, 0))`.execute(connection);
    }
  });
}

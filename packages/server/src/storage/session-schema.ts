import type { ColumnType } from 'kysely';
import type { ReferenceDb } from './reference-schema.js';

/**
 * Migration 004: sign-in sessions and the authorization requests waiting for consent move from
 * one process's memory into the database (./session-records.ts says what each column holds).
 */

/** BIGINT: node-postgres returns it as a string, SQLite as a number. */
type Bigint = ColumnType<number | string, number, number>;

export interface RefSessionsTable {
  /** SHA-256 of the session id, base64url: the id itself is never stored. */
  id_hash: string;
  user_id: string;
  created_at_ms: Bigint;
  expires_at: Bigint;
}

export interface RefPendingAuthorizationsTable {
  id: string;
  session_id_hash: string;
  /** The validated authorization request as JSON. */
  request: string;
  created_at_ms: Bigint;
  expires_at: Bigint;
}

/**
 * Indexes follow the queries (./sql-session-storage.ts): a session by its hash (the primary key,
 * the one read of a signed-in /authorize), a user's sessions oldest first (the per-user cap), a
 * session's pending requests oldest first (the per-session cap), and expiry (pruning, the global
 * cap). No foreign key: SQLite enforces none unless asked per connection, so the storage deletes a
 * session's pending requests itself, and pruning removes any left by an evicted session.
 */
export async function createSessionTables(target: ReferenceDb): Promise<void> {
  await target.schema
    .createTable('ref_sessions')
    .addColumn('id_hash', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('created_at_ms', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .execute();
  await target.schema
    .createIndex('ref_sessions_user_id_created')
    .on('ref_sessions')
    .columns(['user_id', 'created_at_ms'])
    .execute();
  await target.schema.createIndex('ref_sessions_expires_at').on('ref_sessions').column('expires_at').execute();

  await target.schema
    .createTable('ref_pending_authorizations')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('session_id_hash', 'text', (col) => col.notNull())
    .addColumn('request', 'text', (col) => col.notNull())
    .addColumn('created_at_ms', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .execute();
  await target.schema
    .createIndex('ref_pending_authorizations_session')
    .on('ref_pending_authorizations')
    .columns(['session_id_hash', 'created_at_ms'])
    .execute();
  await target.schema
    .createIndex('ref_pending_authorizations_expires_at')
    .on('ref_pending_authorizations')
    .column('expires_at')
    .execute();
}

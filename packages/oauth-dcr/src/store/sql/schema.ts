import type { ColumnType, Generated } from 'kysely';

/**
 * The tables behind the SQL stores, as Kysely sees them. The same schema serves SQLite and
 * PostgreSQL; src/store/sql/migrations.ts creates it.
 *
 * Epoch-second columns are BIGINT. node-postgres returns BIGINT as a string (it may not fit a JS
 * number in general), so their select type is `number | string` and src/store/sql/rows.ts turns
 * them back into numbers. This keeps a caller's own pg.Pool free of global type-parser changes.
 */
type EpochSeconds = ColumnType<number | string, number, number>;
type OptionalEpochSeconds = ColumnType<number | string | null, number | null, number | null>;

export interface ClientsTable {
  client_id: string;
  /** The registered metadata as JSON text: portable, and echoed back byte-for-byte in meaning. */
  metadata: string;
  client_id_issued_at: EpochSeconds;
  client_secret_hash: string | null;
  client_secret_expires_at: EpochSeconds;
  previous_secret_hash: string | null;
  previous_secret_expires_at: OptionalEpochSeconds;
  registration_access_token_hash: string | null;
  registered_via: string;
  registered_by: string | null;
  created_at: EpochSeconds;
  updated_at: EpochSeconds;
  last_used_at: OptionalEpochSeconds;
  /** Replaces so far (compare-and-set); the database default 0 on insert, moved by updateClient only. */
  revision: ColumnType<number | string, never, number>;
  /** When an operator disabled the client; NULL while enabled. Moved by setClientDisabled only. */
  disabled_at: OptionalEpochSeconds;
  /** Re-registration de-duplication digest (never secret); NULL unless de-duplication is on. */
  registration_fingerprint: string | null;
  /** Operator-granted rights as a JSON array of strings; NULL when none were granted. */
  granted_rights: string | null;
}

export interface InitialAccessTokensTable {
  id: string;
  token_hash: string;
  label: string | null;
  /** NULL means unlimited; `uses_remaining - 1` keeps it NULL. */
  uses_remaining: number | null;
  expires_at: OptionalEpochSeconds;
  created_at: EpochSeconds;
  revoked_at: OptionalEpochSeconds;
}

export interface AuditEventsTable {
  /** Autoincrement: gives insertion order, and is never reused after a prune. */
  id: Generated<number | string>;
  type: string;
  at: EpochSeconds;
  client_id: string | null;
  actor: string | null;
  ip: string | null;
  /** Redacted detail as JSON text. */
  detail: string | null;
}

/**
 * The library's tables, for a Kysely instance of your own (`new Kysely<Database>(...)`) or for
 * queries through a SQL store's `db`.
 */
export interface Database {
  dcr_clients: ClientsTable;
  dcr_initial_access_tokens: InitialAccessTokensTable;
  dcr_audit_events: AuditEventsTable;
}

export type SqlDialectName = 'sqlite' | 'postgres';

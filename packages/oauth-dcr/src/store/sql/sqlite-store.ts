// The SQLite store itself. Its subpath entry, ../sqlite.ts, loads this module only after checking
// that better-sqlite3 and Kysely are installed.
import { resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { CompiledQuery, QueryResult } from 'kysely';
import { SqliteGroupCommit } from './group-commit.js';
import { SqliteClientCache } from './sqlite-client-cache.js';
import { MIGRATION_NAMES, MIGRATION_TABLE, migrateToLatest } from './migrations.js';
import * as queries from './queries.js';
import type { Database } from './schema.js';
import type { ClientRecord } from '../types.js';
import { SqlClientStore } from './sql-store.js';
import type { SqlStoreOptions } from './sql-store.js';
import { SqliteStatements } from './sqlite-statements.js';

export { migrateToLatest } from './migrations.js';

/**
 * The part of a better-sqlite3 `Database` that the store's public types mention. Structural, so
 * that the published declarations need no @types/better-sqlite3: a better-sqlite3 Database is one,
 * and `store.sqlite as BetterSqlite3.Database` gives the rest of its API to those who have the types.
 */
export interface SqliteConnection {
  /** True while a transaction is open on the connection. */
  readonly inTransaction: boolean;
  /** Runs a PRAGMA; `{ simple: true }` returns the first column of the first row. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  /** Compiles one SQL statement. */
  prepare(source: string): SqliteStatement;
  /** Runs SQL text, which may hold several statements. */
  exec(source: string): unknown;
  /** Closes the connection. */
  close(): unknown;
}

/** A prepared statement of a SqliteConnection (better-sqlite3's `Statement`, structurally). */
export interface SqliteStatement {
  /** True when the statement returns rows. */
  readonly reader: boolean;
  /** Runs a statement that returns no rows. */
  run(...parameters: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  /** The first row, or undefined. */
  get(...parameters: unknown[]): unknown;
  /** Every row. */
  all(...parameters: unknown[]): unknown[];
}

/** Options of `sqliteStore`: the database file, plus tuning that rarely needs changing. */
export interface SqliteStoreOptions extends SqlStoreOptions {
  /** Database file (created if missing), or ':memory:'. */
  path: string;
  /** How long a write waits for another process holding the write lock, in ms (default 5000). */
  busyTimeoutMs?: number;
  /**
   * Commit concurrent writes together, one fsync per batch (default true). Off, every write is its
   * own commit; kept for measuring the difference.
   */
  groupCommit?: boolean;
  /**
   * Client records kept in memory between lookups (default 10 000; 0 turns the cache off), within
   * 16 MiB of metadata JSON. A change to any client, by any connection or process, empties it; see
   * SqliteClientCache.
   */
  clientCacheSize?: number;
}

/**
 * Opens a better-sqlite3 connection with the settings the store relies on:
 * - WAL: readers never wait for the writer, and a commit appends to one file.
 * - synchronous = FULL: in WAL mode, NORMAL may lose the last commits on power loss; a 201 must
 *   mean the client is on disk.
 * - busy_timeout: another process (the CLI, a second server) holding the write lock makes a
 *   writer wait rather than fail at once.
 */
export function openSqliteDatabase(path: string, options: { busyTimeoutMs?: number } = {}): SqliteConnection {
  return openBetterSqlite(path, options);
}

function openBetterSqlite(path: string, options: { busyTimeoutMs?: number }): BetterSqlite3.Database {
  const sqlite = new BetterSqlite3(path);
  try {
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return sqlite;
}

/** Enough for every client of a typical deployment. */
const DEFAULT_CLIENT_CACHE_SIZE = 10_000;
/**
 * Metadata is client-controlled (up to the 64 KiB body cap), so the cache is also bounded by the
 * size of what it holds: 16 Mi characters of metadata JSON, roughly 40 MB of heap with the
 * parsed records and their serialized read bodies.
 */
const CLIENT_CACHE_METADATA_CHARS = 16 * 1024 * 1024;

/**
 * The embedded default ClientStore, on one SQLite file through better-sqlite3 and Kysely. One
 * process writes at a time (the CLI and a server may share the file); client look-ups are cached
 * in memory. Create it with `sqliteStore`.
 */
export class SqliteClientStore extends SqlClientStore {
  readonly dialect = 'sqlite' as const;
  /** The database file, as given. */
  readonly path: string;
  /** The raw better-sqlite3 connection, shared with `db`. */
  readonly sqlite: SqliteConnection;
  /** The same connection, with better-sqlite3's own types, for use inside the store. */
  readonly #sqlite: BetterSqlite3.Database;
  readonly #statements: SqliteStatements;
  readonly #groupCommit: SqliteGroupCommit;
  readonly #clientCache: SqliteClientCache;

  constructor(options: SqliteStoreOptions) {
    const clientCacheSize = options.clientCacheSize ?? DEFAULT_CLIENT_CACHE_SIZE;
    if (!Number.isSafeInteger(clientCacheSize) || clientCacheSize < 0) {
      throw new TypeError(`clientCacheSize must be a non-negative integer, got ${clientCacheSize}`);
    }
    const sqlite = openBetterSqlite(options.path, options);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    super(db, options.migrate === false ? Promise.resolve() : migrateSqlite(options.path, sqlite, db), options);
    this.path = options.path;
    this.sqlite = sqlite;
    this.#sqlite = sqlite;
    this.#statements = new SqliteStatements(sqlite);
    this.#groupCommit = new SqliteGroupCommit({
      sqlite,
      statements: this.#statements,
      // Kysely's connection mutex: our batches never interleave with a Kysely transaction
      // someone opened on `db`.
      exclusive: (work) => db.connection().execute(async () => work()),
      enabled: options.groupCommit ?? true,
    });
    this.#clientCache = new SqliteClientCache(sqlite, {
      maxEntries: clientCacheSize,
      maxMetadataChars: CLIENT_CACHE_METADATA_CHARS,
    });
  }

  protected override async lookupClient(clientId: string): Promise<ClientRecord | null> {
    // Inside a Kysely transaction someone holds on `db`, read through it and cache nothing:
    // its rows are not committed yet (read() waits for it).
    if (!this.#clientCache.enabled || this.#sqlite.inTransaction) return super.lookupClient(clientId);
    const cached = this.#clientCache.get(clientId);
    if (cached) return cached;
    const generation = this.#clientCache.generation;
    const found = await this.readClient(clientId);
    if (!found) return null;
    this.#clientCache.set(found.record, found.metadataChars, generation);
    return found.record;
  }

  protected read<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
    // No transaction open means nobody holds the connection across an await (our batches are
    // synchronous), so a read can run at once. Otherwise a Kysely transaction on `db` is in
    // progress: wait for it rather than read its uncommitted rows.
    if (!this.#sqlite.inTransaction) return Promise.resolve(this.#statements.run(query));
    return this.db.connection().execute(async () => this.#statements.run(query));
  }

  protected write<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
    return this.#groupCommit.write(query);
  }

  protected override writeAuditEvent(query: CompiledQuery): Promise<QueryResult<unknown>> {
    // No answer waits for an audit event: it joins the next batch instead of paying a sync alone.
    return this.#groupCommit.write(query, { deferred: true });
  }

  protected async writeClientUses(uses: Array<[clientId: string, at: number]>): Promise<void> {
    // One statement per client: the SQL text stays the same, so it is prepared once, and the
    // updates join the same group commit as everything else.
    await Promise.all(uses.map(([clientId, at]) => this.write(queries.touchClient(this.db, clientId, at))));
  }

  protected async release(): Promise<void> {
    await this.#groupCommit.drain();
    // Closes the better-sqlite3 connection (and checkpoints the WAL if it is the last one).
    await this.db.destroy();
  }
}

/**
 * Migrations in progress, per database file, in this process.
 *
 * A migration holds SQLite's write lock across awaits (Kysely's Migrator is async). Another
 * connection in the same process that then writes — synchronously, as better-sqlite3 does — would
 * block the event loop in busy_timeout while the lock holder can never resume: a deadlock ending
 * in SQLITE_BUSY. So in one process, stores on the same file migrate one after another, and a
 * store whose file is already up to date takes no lock at all. (Other processes simply wait.)
 */
const migrationsByFile = new Map<string, Promise<void>>();

function migrateSqlite(path: string, sqlite: BetterSqlite3.Database, db: Kysely<Database>): Promise<void> {
  if (isMigrated(sqlite)) return Promise.resolve();
  const file = path === '' || path === ':memory:' ? undefined : resolve(path);
  const migrate = async () => {
    if (!isMigrated(sqlite)) await migrateToLatest(db, { dialect: 'sqlite' });
  };
  if (file === undefined) return migrate();
  const run = (migrationsByFile.get(file) ?? Promise.resolve()).then(migrate);
  const settled = run.catch(() => undefined);
  migrationsByFile.set(file, settled);
  void settled.then(() => {
    if (migrationsByFile.get(file) === settled) migrationsByFile.delete(file);
  });
  return run;
}

/** A synchronous read, so no lock is held: true when every known migration is recorded. */
function isMigrated(sqlite: BetterSqlite3.Database): boolean {
  try {
    const applied = new Set(sqlite.prepare(`select name from ${MIGRATION_TABLE}`).pluck().all());
    return MIGRATION_NAMES.every((name) => applied.has(name));
  } catch {
    return false; // no bookkeeping table yet
  }
}

/**
 * The embedded default store: `sqliteStore('oauth.db')`, or options for more. Usable at once;
 * methods wait for the migrations (await `store.ready` to fail fast on a bad database).
 */
export function sqliteStore(options: string | SqliteStoreOptions): SqliteClientStore {
  return new SqliteClientStore(typeof options === 'string' ? { path: options } : options);
}

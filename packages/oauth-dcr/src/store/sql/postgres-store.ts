// The PostgreSQL store itself. Its subpath entry, ../postgres.ts, loads this module only after
// checking that pg and Kysely are installed.
import { Kysely, PostgresDialect } from 'kysely';
import type { CompiledQuery, PostgresPool as KyselyPostgresPool, QueryResult } from 'kysely';
import pg from 'pg';
import { ensureMigrated } from './migrations.js';
import * as queries from './queries.js';
import type { Database } from './schema.js';
import { SqlClientStore } from './sql-store.js';
import type { SqlStoreOptions } from './sql-store.js';

export { migrateToLatest } from './migrations.js';

/**
 * The part of a pg `Pool` the store uses and its public types mention. Structural, so that the
 * published declarations need no @types/pg: a pg Pool is one (Kysely's own pool type, plus
 * `query` and the 'error' event).
 */
export interface PostgresPool extends KyselyPostgresPool {
  /** Runs one parameterized query. */
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
  /** Errors of idle clients; the store listens on a pool it created, so that one does not crash the process. */
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** Clients per last-used flush statement: bounds the statement's parameter count. */
const TOUCH_CHUNK = 500;

/** Options of `postgresStore`: where the database is, and the pool. */
export interface PostgresStoreOptions extends SqlStoreOptions {
  /** Used to create a pool when `pool` is not given; without either, pg reads the PG* variables. */
  connectionString?: string;
  /** An existing pool. The store uses it but never ends it, and leaves its type parsers alone. */
  pool?: PostgresPool;
  /** Pool size when the store creates the pool (default 10). */
  max?: number;
  /** Schema holding the tables (created when missing); default: the connection's search_path. */
  schema?: string;
}

/**
 * The scale-out ClientStore, on PostgreSQL through pg and Kysely: any number of server instances
 * share one database. Create it with `postgresStore`.
 */
export class PostgresClientStore extends SqlClientStore {
  readonly dialect = 'postgres' as const;
  /** The schema holding the tables; undefined means the connection's search_path. */
  readonly schema: string | undefined;
  /** The pool the store queries through (its own, or the one passed in). */
  readonly pool: PostgresPool;

  constructor(options: PostgresStoreOptions) {
    const ownPool = !options.pool;
    const pool: PostgresPool =
      options.pool ??
      new pg.Pool({
        ...(options.connectionString === undefined ? {} : { connectionString: options.connectionString }),
        max: options.max ?? 10,
      });
    // An idle client losing its server emits 'error' on the pool, which would otherwise crash the
    // process; report it instead. A caller's own pool is the caller's to watch.
    if (ownPool) pool.on('error', options.onError ?? ((error) => process.emitWarning(error)));
    const dialect = new PostgresDialect({
      // Kysely ends the pool on destroy(); a pool passed in belongs to the caller.
      pool: ownPool ? pool : { connect: () => pool.connect(), end: async () => undefined },
    });
    const root = new Kysely<Database>({ dialect });
    // withSchema qualifies every table this store's queries name, so nothing depends on the
    // search_path of a shared pool's connections.
    const db = options.schema ? root.withSchema(options.schema) : root;
    const migrated =
      options.migrate === false
        ? Promise.resolve()
        : ensureMigrated(db, { dialect: 'postgres', ...(options.schema ? { schema: options.schema } : {}) });
    super(db, migrated, options);
    this.schema = options.schema;
    this.pool = pool;
  }

  protected read<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
    return this.db.executeQuery(query);
  }

  protected write<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
    return this.db.executeQuery(query);
  }

  protected async writeClientUses(uses: Array<[clientId: string, at: number]>): Promise<void> {
    for (let start = 0; start < uses.length; start += TOUCH_CHUNK) {
      await this.write(queries.touchClients(this.db, uses.slice(start, start + TOUCH_CHUNK)));
    }
  }

  protected async release(): Promise<void> {
    await this.db.destroy();
  }
}

/**
 * The scale-out store: several instances share one database. Give a connection string or options
 * (an existing pool, a schema). Methods wait for the migrations.
 */
export function postgresStore(options: string | PostgresStoreOptions): PostgresClientStore {
  return new PostgresClientStore(typeof options === 'string' ? { connectionString: options } : options);
}

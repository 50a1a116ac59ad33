import type { ClientStore } from 'oauth-dcr';
import type { SqliteConnection } from 'oauth-dcr/sqlite';
import type { StorageConfig } from '../config.js';
import { MemorySigningKeyStore, MemoryTokenStore, MemoryUsedOnceStore, MemoryUserStore } from './memory-stores.js';
import { kyselyReads, sqliteReads } from './key-lookups.js';
import type { SigningKeyStore, TokenStore, UsedOnceStore, UserStore } from './records.js';
import { migrateReferenceTables, type ReferenceDb, type ReferenceTables } from './reference-schema.js';
import { SqlSigningKeyStore, SqlUsedOnceStore } from './sql-key-stores.js';
import { SqlTokenStore, SqlUserStore, type WriteStatement } from './sql-stores.js';
import { MemorySessionStorage } from './memory-session-storage.js';
import type { SessionStorage } from './session-records.js';
import { SqlSessionStorage } from './sql-session-storage.js';

/** Everything the server keeps, in one place: the library's client store and the server's own tables. */
export interface ServerStorage {
  clients: ClientStore;
  tokens: TokenStore;
  users: UserStore;
  /** RFC 9068 access-token signing keys, shared by every instance on this database. */
  signingKeys: SigningKeyStore;
  /** RFC 7523 §3: client assertion jti values already used. */
  usedClientAssertions: UsedOnceStore;
  /** Sign-in sessions and authorization requests waiting for consent (../sessions.ts). */
  sessions: SessionStorage;
  /** For the banner: "SQLite ./oauth-dcr.db", "PostgreSQL", "memory". */
  description: string;
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  /**
   * Apply the client store's migrations on open (default true). `oauth-dcr migrate` turns this off
   * and runs them itself to report what it applied.
   */
  migrate?: boolean;
  /**
   * Called with the names of migrations applied (the client store's, then the server's own
   * `ref_` ones), when this call applied them itself.
   */
  onMigrated?: (applied: string[]) => void;
}

export async function openStorage(config: StorageConfig, options: OpenStorageOptions = {}): Promise<ServerStorage> {
  if (config.kind === 'memory') {
    const { memoryStore } = await import('oauth-dcr/memory');
    const clients = memoryStore();
    const users = new MemoryUserStore();
    return {
      clients,
      tokens: new MemoryTokenStore(),
      users,
      sessions: new MemorySessionStorage(users),
      signingKeys: new MemorySigningKeyStore(),
      usedClientAssertions: new MemoryUsedOnceStore(),
      description: 'memory (nothing survives a restart)',
      close: () => clients.close(),
    };
  }

  // Drivers are optional peer dependencies: load only the one this deployment uses.
  let store;
  let migrateToLatest;
  let description: string;
  let connection: SqliteConnection | undefined;
  if (config.kind === 'sqlite') {
    const sqlite = await import('oauth-dcr/sqlite');
    migrateToLatest = sqlite.migrateToLatest;
    const { sqliteStore } = sqlite;
    store = sqliteStore({ path: config.path, migrate: options.migrate ?? true });
    connection = store.sqlite;
    description = `SQLite ${config.path}`;
  } else {
    const postgres = await import('oauth-dcr/postgres');
    migrateToLatest = postgres.migrateToLatest;
    const { postgresStore } = postgres;
    store = postgresStore({
      connectionString: config.url,
      migrate: options.migrate ?? true,
      ...(config.schema ? { schema: config.schema } : {}),
    });
    description = `PostgreSQL ${redactUrl(config.url)}${config.schema ? ` (schema ${config.schema})` : ''}`;
  }
  try {
    await store.ready;
    let applied: string[] = [];
    if (options.migrate === false) {
      applied = await migrateToLatest(store.db, {
        dialect: store.dialect,
        ...(config.kind === 'postgres' && config.schema ? { schema: config.schema } : {}),
      });
    }
    const db = store.db.withTables<ReferenceTables>() as unknown as ReferenceDb;
    const appliedHere = await migrateReferenceTables(db, store.dialect);
    if (options.migrate === false) options.onMigrated?.([...applied, ...appliedHere]);
    const write: WriteStatement = (query) => store.executeWrite(query);
    const reads = connection ? sqliteReads(connection, db) : kyselyReads(db);
    return {
      clients: store,
      tokens: new SqlTokenStore(db, write, store.dialect, reads),
      users: new SqlUserStore(db, reads),
      signingKeys: new SqlSigningKeyStore(db, write, store.dialect),
      usedClientAssertions: new SqlUsedOnceStore(db, write),
      sessions: new SqlSessionStorage(db, write, store.dialect, reads),
      description,
      close: () => store.close(),
    };
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

/** A connection string without its password, fit for a banner or a log line. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ClientStore } from '../store/types.js';
import { describeStorage, maskUrlPassword, SettingError, type AdminStorage } from './settings.js';

/** The library's store as the admin commands use it: nothing but oauth-dcr's own tables. */
export interface AdminStore {
  clients: ClientStore;
  /** "SQLite ./oauth-dcr.db", "PostgreSQL postgres://dcr:***@db/dcr (schema auth)". */
  description: string;
  /** Applies the migrations not applied yet; resolves their names. */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

export interface OpenAdminStoreOptions {
  /**
   * The database must already exist and hold oauth-dcr's tables. Every command but `migrate`
   * reads or changes an existing database: a mistyped DATABASE_PATH must not become a new, empty
   * one, nor an unrelated database gain oauth-dcr's tables.
   */
  mustExist: boolean;
}

/** How long a PostgreSQL server gets to accept a connection before DATABASE_URL is called unreachable. */
const DATABASE_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens the configured store, or explains in one line (a SettingError naming the setting) why it
 * cannot: a missing file or directory, a database without oauth-dcr's tables, an unreachable or
 * refusing PostgreSQL server, a driver that is not installed. Checked before the store is opened,
 * so a refusal leaves nothing on disk.
 *
 * The store modules are imported here, not at the top: the drivers are optional peer dependencies,
 * and only the one in use needs to be installed.
 */
export async function openAdminStore(storage: AdminStorage, options: OpenAdminStoreOptions): Promise<AdminStore> {
  const description = describeStorage(storage);
  if (storage.kind === 'sqlite') {
    // The store module first: when its peers are missing, its one line names all of them.
    const { sqliteStore, migrateToLatest } = await importDriver(
      () => import('../store/sqlite.js'),
      'DATABASE_PATH (SQLite)',
      'better-sqlite3',
    );
    await checkSqlitePath(storage.path, options.mustExist);
    const store = await opened(storage, () => sqliteStore({ path: storage.path, migrate: options.mustExist }));
    return {
      clients: store,
      description,
      migrate: () => explained(storage, () => migrateToLatest(store.db, { dialect: 'sqlite' })),
      close: () => store.close(),
    };
  }
  const { postgresStore, migrateToLatest } = await importDriver(
    () => import('../store/postgres.js'),
    'DATABASE_URL (PostgreSQL)',
    'pg',
  );
  await checkPostgres(storage, options.mustExist);
  const schemaOption = storage.schema ? { schema: storage.schema } : {};
  const store = await opened(storage, () =>
    postgresStore({ connectionString: storage.url, migrate: options.mustExist, ...schemaOption }),
  );
  return {
    clients: store,
    description,
    migrate: () => explained(storage, () => migrateToLatest(store.db, { dialect: 'postgres', ...schemaOption })),
    close: () => store.close(),
  };
}

/** A store whose `ready` settled; closed again if it failed. */
async function opened<Store extends { ready: Promise<void>; close(): Promise<void> }>(
  storage: AdminStorage,
  open: () => Store,
): Promise<Store> {
  const store = await explained(storage, async () => open());
  try {
    await explained(storage, () => store.ready);
    return store;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

/**
 * A store module or driver, or a SettingError naming the setting that asked for it when a peer
 * dependency is not installed: the store subpaths already say which (MissingPeerDependencyError),
 * a driver imported here directly fails with Node's own "Cannot find package 'pg'".
 */
async function importDriver<Module>(load: () => Promise<Module>, setting: string, driver: string): Promise<Module> {
  try {
    return await load();
  } catch (error) {
    const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
    if (name === 'MissingPeerDependencyError') throw new SettingError(`${setting}: ${oneLine(error)}`);
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && oneLine(error).includes(`'${driver}'`)) {
      throw new SettingError(`${setting} needs ${driver}, which is not installed: npm install ${driver}`);
    }
    throw error;
  }
}

async function checkSqlitePath(path: string, mustExist: boolean): Promise<void> {
  // Each command is its own process: an in-memory database would be gone when it ends.
  if (path === ':memory:') throw new SettingError('DATABASE_PATH: :memory: does not outlive this command; give a file');
  const found = await stat(path).catch(() => undefined);
  if (found?.isDirectory()) throw new SettingError(`DATABASE_PATH: ${path} is a directory, not a database file`);
  if (!found) {
    if (mustExist) {
      throw new SettingError(
        `DATABASE_PATH: ${path} does not exist (this command never creates a database; check the path, or create it with oauth-dcr migrate)`,
      );
    }
    const directory = await stat(dirname(path)).catch(() => undefined);
    if (!directory) throw new SettingError(`DATABASE_PATH: directory ${dirname(path)} does not exist`);
    if (!directory.isDirectory()) throw new SettingError(`DATABASE_PATH: ${dirname(path)} is not a directory`);
    return;
  }
  if (!mustExist) return;
  // A file that exists but is not ours (a mistyped path that hits another database) would be
  // migrated into an oauth-dcr database on open; look, read-only, before opening it for real.
  const { default: Database } = await importDriver(
    () => import('better-sqlite3'),
    'DATABASE_PATH (SQLite)',
    'better-sqlite3',
  );
  let hasClients: boolean;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      hasClients =
        db.prepare("select 1 from sqlite_master where type = 'table' and name = 'dcr_clients'").get() !== undefined;
    } finally {
      db.close();
    }
  } catch (error) {
    throw new SettingError(`DATABASE_PATH: cannot open ${path}: ${oneLine(error)}`);
  }
  if (!hasClients) {
    throw new SettingError(
      `DATABASE_PATH: ${path} is not an oauth-dcr database (no dcr_clients table; check the path, or run oauth-dcr migrate)`,
    );
  }
}

/** One connection, with a deadline: pg alone would wait for the operating system's TCP timeout. */
async function checkPostgres(storage: Extract<AdminStorage, { kind: 'postgres' }>, mustExist: boolean): Promise<void> {
  const { default: pg } = await importDriver(() => import('pg'), 'DATABASE_URL (PostgreSQL)', 'pg');
  const client = new pg.Client({ connectionString: storage.url, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS });
  // A server that drops the connection later must not crash the process through an unhandled 'error'.
  client.on('error', () => undefined);
  try {
    try {
      await client.connect();
    } catch (error) {
      throw new SettingError(`DATABASE_URL: cannot connect to ${maskUrlPassword(storage.url)}: ${oneLine(error)}`);
    }
    if (mustExist) {
      const { rows } = await client.query(
        "select 1 from information_schema.tables where table_schema = coalesce($1, current_schema()) and table_name = 'dcr_clients'",
        [storage.schema ?? null],
      );
      if (rows.length === 0) {
        const where = storage.schema ? `schema ${storage.schema}` : 'the default schema';
        throw new SettingError(
          `DATABASE_URL: no oauth-dcr tables in ${where} (this command never creates them; check DATABASE_URL and DATABASE_SCHEMA, or run oauth-dcr migrate)`,
        );
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Network failures and refusals by the database server: a setting's fault, not a bug. */
const POSTGRES_SETTING_ERRORS = /^(28|3D|3F|42501)/;
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
]);

/** Runs `work`, turning a database error that a setting explains into a SettingError naming it. */
async function explained<T>(storage: AdminStorage, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? '');
    if (storage.kind === 'sqlite' && code.startsWith('SQLITE_')) {
      throw new SettingError(`DATABASE_PATH: cannot use ${storage.path}: ${oneLine(error)}`);
    }
    if (storage.kind === 'postgres' && (POSTGRES_SETTING_ERRORS.test(code) || NETWORK_ERRORS.has(code))) {
      throw new SettingError(`DATABASE_URL: ${maskUrlPassword(storage.url)}: ${oneLine(error)}`);
    }
    throw error;
  }
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

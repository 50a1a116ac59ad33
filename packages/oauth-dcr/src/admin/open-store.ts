import type { ClientStore } from '../store/types.js';
import { describeStorage, SettingError, type AdminStorage } from './settings.js';
import { checkStorage, explainStorageError, importDriver } from './storage-checks.js';

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
    // Each command is its own process: an in-memory database would be gone when it ends.
    if (storage.path === ':memory:') {
      throw new SettingError('DATABASE_PATH: :memory: does not outlive this command; give a file');
    }
    await checkStorage(storage, options);
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
  await checkStorage(storage, options);
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

/** Runs `work`, turning a database error that a setting explains into a SettingError naming it. */
async function explained<T>(storage: AdminStorage, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw explainStorageError(storage, error) ?? error;
  }
}

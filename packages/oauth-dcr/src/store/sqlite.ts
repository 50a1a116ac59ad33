// oauth-dcr/sqlite: the embedded default store, on better-sqlite3 and Kysely (optional peer
// dependencies). The store lives in ./sql/sqlite-store.ts; it is imported dynamically so that a
// missing peer fails here with one line naming it (see ../core/peer-dependency.ts).
import { importPeer } from '../core/peer-dependency.js';

const store = await importPeer(() => import('./sql/sqlite-store.js'), {
  subpath: 'oauth-dcr/sqlite',
  packages: ['better-sqlite3', 'kysely'],
  install: 'npm install better-sqlite3@12 kysely',
});

export const { SqliteClientStore, sqliteStore, openSqliteDatabase, migrateToLatest } = store;
/** The SQLite store's class (see store/sql/sqlite-store.ts), as a type. */
export type SqliteClientStore = InstanceType<typeof SqliteClientStore>;
export type { SqliteConnection, SqliteStatement, SqliteStoreOptions } from './sql/sqlite-store.js';
export type { MigrateOptions } from './sql/migrations.js';
export { ClientExistsError, StoreClosedError } from './errors.js';
export type { Database } from './sql/schema.js';
export type { SqlStoreOptions } from './sql/sql-store.js';

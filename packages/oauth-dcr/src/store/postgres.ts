// oauth-dcr/postgres: the scale-out store, on pg and Kysely (optional peer dependencies). The
// store lives in ./sql/postgres-store.ts; it is imported dynamically so that a missing peer fails
// here with one line naming it (see ../core/peer-dependency.ts).
import { importPeer } from '../core/peer-dependency.js';

const store = await importPeer(() => import('./sql/postgres-store.js'), {
  subpath: 'oauth-dcr/postgres',
  packages: ['pg', 'kysely'],
  install: 'npm install pg kysely',
});

export const { PostgresClientStore, postgresStore, migrateToLatest } = store;
/** The PostgreSQL store's class (see store/sql/postgres-store.ts), as a type. */
export type PostgresClientStore = InstanceType<typeof PostgresClientStore>;
export type { PostgresPool, PostgresStoreOptions } from './sql/postgres-store.js';
export type { MigrateOptions } from './sql/migrations.js';
export { ClientExistsError, StoreClosedError } from './errors.js';
export type { Database } from './sql/schema.js';
export type { SqlStoreOptions } from './sql/sql-store.js';

/**
 * `oauth-dcr/admin`: what a program that configures oauth-dcr's database from settings needs to
 * refuse a bad setting in one line, as the `oauth-dcr` admin commands do (the reference server
 * uses it for its own command line):
 *
 * - `checkStorage`: checks a SQLite path or a PostgreSQL connection before anything opens it, so a
 *   wrong setting leaves nothing on disk;
 * - `explainStorageError`: turns a database error that a setting explains into a one-line error
 *   naming that setting;
 * - `SettingError`: the error both throw or return, whose message names the setting and never
 *   quotes a password;
 * - `maskUrlPassword`, `secretValues`, `maskSecrets`: keep the database password out of whatever
 *   is printed or logged.
 *
 * The database drivers (better-sqlite3, pg) are optional peer dependencies, loaded only when a
 * check needs them: importing this subpath needs neither.
 */
export {
  type AdminStorage,
  maskSecrets,
  maskUrlPassword,
  type StorageFlags,
  SettingError,
  secretValues,
} from './settings.js';
export { type CheckStorageOptions, checkStorage, explainStorageError } from './storage-checks.js';

import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { maskUrlPassword, SettingError, type AdminStorage } from './settings.js';

/**
 * Checks of a configured database made before it is opened, so that a wrong setting ends in one
 * line naming it and leaves nothing on disk. Shared by the `oauth-dcr` admin commands and the
 * reference server (through `oauth-dcr/admin`).
 *
 * The drivers are imported here, not at the top: they are optional peer dependencies, and only
 * the one in use needs to be installed.
 */

export interface CheckStorageOptions {
  /**
   * The database must already exist and hold oauth-dcr's tables (a `dcr_clients` table). Set it
   * for every command that reads or changes an existing database: a mistyped DATABASE_PATH must
   * not become a new, empty one, nor an unrelated database gain oauth-dcr's tables. Without it a
   * missing SQLite file is fine as long as its directory exists.
   */
  mustExist: boolean;
}

/** How long a PostgreSQL server gets to accept a connection before DATABASE_URL is called unreachable. */
const DATABASE_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Checks that the configured database can be used, before anything opens it; throws a
 * SettingError naming the setting when it cannot.
 *
 * SQLite: the path is not a directory, and its directory exists; with `mustExist`, the file
 * exists and holds oauth-dcr's tables (looked at read-only). `:memory:` has nothing to check.
 * PostgreSQL: the server accepts one connection within 10 seconds; with `mustExist`, oauth-dcr's
 * tables are in the configured schema (or the default one). Connection errors never show the
 * password.
 */
export async function checkStorage(storage: AdminStorage, options: CheckStorageOptions): Promise<void> {
  if (storage.kind === 'sqlite') await checkSqlitePath(storage.path, options.mustExist);
  else await checkPostgres(storage, options.mustExist);
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

/**
 * A database error that a setting explains, as a one-line SettingError naming the setting:
 * any SQLite error (SQLITE_* code) for DATABASE_PATH; for DATABASE_URL, a refused login, a
 * missing database or schema, a missing privilege, or a network failure (with the password
 * masked). Undefined for any other error, which is a bug to report as it is.
 */
export function explainStorageError(storage: AdminStorage, error: unknown): SettingError | undefined {
  const code = String((error as { code?: unknown } | null | undefined)?.code ?? '');
  if (storage.kind === 'sqlite' && code.startsWith('SQLITE_')) {
    return new SettingError(`DATABASE_PATH: cannot use ${storage.path}: ${oneLine(error)}`);
  }
  if (storage.kind === 'postgres' && (POSTGRES_SETTING_ERRORS.test(code) || NETWORK_ERRORS.has(code))) {
    return new SettingError(`DATABASE_URL: ${maskUrlPassword(storage.url)}: ${oneLine(error)}`);
  }
  return undefined;
}

/**
 * A store module or driver, or a SettingError naming the setting that asked for it when a peer
 * dependency is not installed: the store subpaths already say which (MissingPeerDependencyError),
 * a driver imported here directly fails with Node's own "Cannot find package 'pg'".
 */
export async function importDriver<Module>(
  load: () => Promise<Module>,
  setting: string,
  driver: string,
): Promise<Module> {
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
  if (path === ':memory:') return;
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

/** An error's message on one line, for a one-line refusal. */
function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

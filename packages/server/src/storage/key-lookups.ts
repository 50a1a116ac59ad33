import type { Compilable, CompiledQuery } from 'kysely';
import type { SqliteConnection, SqliteStatement } from 'oauth-dcr/sqlite';
import type { ReferenceDb } from './reference-schema.js';

/** Runs a compiled read and resolves its rows. */
export type RunRead = <R>(query: CompiledQuery<R>) => Promise<R[]>;

/**
 * A lookup by one key (a token hash, a code hash, a user id), compiled once: the token endpoint
 * runs these on every request, and building and compiling a Kysely query each time costs more
 * than the indexed read itself. Only the key changes from one call to the next, and it is the
 * query's only parameter.
 */
export function keyLookup<R>(
  build: (key: string) => Compilable<R>,
  run: RunRead,
): (key: string) => Promise<R | undefined> {
  let template: CompiledQuery<R> | undefined;
  return async (key) => {
    template ??= build('').compile();
    if (template.parameters.length !== 1) throw new Error(`keyLookup: ${template.sql} must have one parameter`);
    const rows: R[] = await run<R>({ ...template, parameters: [key] });
    return rows[0];
  };
}

/** Through Kysely's driver (PostgreSQL, or SQLite while a Kysely transaction holds the connection). */
export function kyselyReads(db: ReferenceDb): RunRead {
  return async <R>(query: CompiledQuery<R>) => (await db.executeQuery(query)).rows;
}

/**
 * SQLite: a statement prepared once per SQL text, run synchronously, as the client store runs its
 * own reads. Kysely's SQLite driver prepares a statement on every call and queues behind its
 * connection mutex. While a Kysely transaction is open on the connection (a migration, say), the
 * read goes through Kysely instead, and so waits for that transaction rather than read its
 * uncommitted rows.
 */
export function sqliteReads(sqlite: SqliteConnection, db: ReferenceDb): RunRead {
  const statements = new Map<string, SqliteStatement>();
  const viaKysely = kyselyReads(db);
  return async <R>(query: CompiledQuery<R>) => {
    if (sqlite.inTransaction) return viaKysely(query);
    let statement = statements.get(query.sql);
    if (!statement) {
      statement = sqlite.prepare(query.sql);
      statements.set(query.sql, statement);
    }
    return statement.all(query.parameters) as R[];
  };
}

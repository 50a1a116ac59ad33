import { sql } from 'kysely';
import type { CompiledQuery, Insertable, Kysely, Selectable } from 'kysely';
import type { AuditEventsTable, ClientsTable, Database, InitialAccessTokensTable } from './schema.js';

/*
 * Every statement the SQL stores run, written once for both dialects. Each function returns a
 * compiled query rather than executing it, so that a store decides how to run it: PostgreSQL hands
 * it to Kysely, SQLite runs writes through its group commit on prepared statements.
 */

type Db = Kysely<Database>;

/** A duplicate id is reported by "no row inserted", not by parsing a driver's error text. */
export function insertClient(db: Db, row: Insertable<ClientsTable>): CompiledQuery {
  return db
    .insertInto('dcr_clients')
    .values(row)
    .onConflict((conflict) => conflict.column('client_id').doNothing())
    .compile();
}

export function selectClient(db: Db, clientId: string): CompiledQuery<Selectable<ClientsTable>> {
  return db.selectFrom('dcr_clients').selectAll().where('client_id', '=', clientId).compile();
}

/**
 * Turns a query builder into one that compiles once: the first call compiles with a marker in
 * place of each value, later calls bind their values where the markers went. For the statements
 * every registration and lookup runs (insertClient, insertAuditEvent, selectClient), building and
 * compiling with Kysely cost more than SQLite takes to run them.
 *
 * Only for queries whose SQL depends on which keys are given, never on their values (inserts of
 * whole rows, lookups by key). Values of another shape are compiled as they are.
 */
export function compiledOnce<V extends object, R>(
  build: (values: V) => CompiledQuery<R>,
): (values: V) => CompiledQuery<R> {
  let template: CompiledQuery<R> | undefined;
  let keys: string[] = [];
  let order: string[] = [];
  return (values) => {
    const given = values as Record<string, unknown>;
    if (template === undefined) {
      keys = Object.keys(given);
      const markers = Object.fromEntries(keys.map((key) => [key, `\u0000oauth-dcr:${key}`]));
      template = build(markers as V);
      order = template.parameters.map((parameter) => {
        const key = keys.find((candidate) => markers[candidate] === parameter);
        if (key === undefined) throw new Error('compiledOnce: the query has a parameter that is not one of its values');
        return key;
      });
      // A value the SQL takes in as text rather than as a parameter would be baked in for good.
      if (keys.some((key) => !order.includes(key)))
        throw new Error('compiledOnce: a value is not a parameter of the query');
    }
    if (!hasKeys(given, keys)) return build(values);
    return { ...template, parameters: order.map((key) => given[key]) };
  };
}

/** The same keys in the same order, none undefined (Kysely leaves an undefined column out). */
function hasKeys(values: Record<string, unknown>, keys: string[]): boolean {
  let count = 0;
  for (const key in values) {
    if (!Object.hasOwn(values, key)) continue;
    if (keys[count] !== key || values[key] === undefined) return false;
    count++;
  }
  return count === keys.length;
}

export function selectClients(
  db: Db,
  options: { limit: number; after: string | undefined },
): CompiledQuery<Selectable<ClientsTable>> {
  let query = db.selectFrom('dcr_clients').selectAll().orderBy('client_id').limit(options.limit);
  if (options.after !== undefined) query = query.where('client_id', '>', options.after);
  return query.compile();
}

/**
 * Replaces a client's columns and moves its revision one up. With `expected`, a compare-and-set:
 * the row changes only while it still has the revision and registration access token hash that
 * were read. One statement, so the database's row lock makes it atomic against every writer;
 * the token hash is checked too so that a rotation by code that does not count revisions (one
 * version behind, during a rolling upgrade) still makes it fail.
 * `last_used_at` is left alone: only recordClientUse moves it (forward), so a replace built from
 * an older read cannot move it back. So is `disabled_at`: only setClientDisabled moves it, so a
 * replace (without an expectation) built from a read before an operator's decision cannot undo it.
 */
export function updateClient(
  db: Db,
  row: Insertable<ClientsTable>,
  expected: { revision: number; registrationAccessTokenHash: string | null } | undefined,
): CompiledQuery {
  const { client_id: clientId, last_used_at: _lastUsedAt, disabled_at: _disabledAt, ...columns } = row;
  let query = db
    .updateTable('dcr_clients')
    .set({ ...columns, revision: sql<number>`revision + 1` })
    .where('client_id', '=', clientId);
  if (expected !== undefined) {
    query = query.where('revision', '=', expected.revision);
    const hash = expected.registrationAccessTokenHash;
    query =
      hash === null
        ? query.where('registration_access_token_hash', 'is', null)
        : query.where('registration_access_token_hash', '=', hash);
  }
  return query.compile();
}

export function deleteClient(db: Db, clientId: string): CompiledQuery {
  return db.deleteFrom('dcr_clients').where('client_id', '=', clientId).compile();
}

/** Moves last_used_at forward only, so late or reordered flushes never move it back. */
export function touchClient(db: Db, clientId: string, at: number): CompiledQuery {
  return db
    .updateTable('dcr_clients')
    .set({ last_used_at: at })
    .where('client_id', '=', clientId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
    .compile();
}

/** The same as touchClient for many clients in one statement (one round trip on PostgreSQL). */
export function touchClients(db: Db, uses: ReadonlyArray<readonly [clientId: string, at: number]>): CompiledQuery {
  // The explicit cast types the parameters: PostgreSQL would otherwise infer text for a CASE
  // whose branches are all parameters.
  const usedAt = sql<number>`case client_id ${sql.join(
    uses.map(([clientId, at]) => sql`when ${clientId} then cast(${at} as bigint)`),
    sql` `,
  )} end`;
  return db
    .updateTable('dcr_clients')
    .set({ last_used_at: usedAt })
    .where(
      'client_id',
      'in',
      uses.map(([clientId]) => clientId),
    )
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', usedAt)]))
    .compile();
}

export function insertInitialAccessToken(db: Db, row: Insertable<InitialAccessTokensTable>): CompiledQuery {
  return db.insertInto('dcr_initial_access_tokens').values(row).compile();
}

/**
 * Spends one use in a single statement, so the database's row lock makes it atomic: concurrent
 * callers (other connections, other processes) each see the row after the previous spend.
 * NULL uses stay NULL (unlimited), since NULL - 1 is NULL.
 */
export function consumeInitialAccessToken(
  db: Db,
  tokenHash: string,
  now: number,
): CompiledQuery<Selectable<InitialAccessTokensTable>> {
  return db
    .updateTable('dcr_initial_access_tokens')
    .set((eb) => ({ uses_remaining: eb('uses_remaining', '-', 1) }))
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .where((eb) => eb.or([eb('uses_remaining', 'is', null), eb('uses_remaining', '>', 0)]))
    .returningAll()
    .compile();
}

export function selectInitialAccessTokens(db: Db): CompiledQuery<Selectable<InitialAccessTokensTable>> {
  return db.selectFrom('dcr_initial_access_tokens').selectAll().orderBy('created_at').orderBy('id').compile();
}

/** Revoking twice reports false the second time: nothing changed. */
export function revokeInitialAccessToken(db: Db, id: string, at: number): CompiledQuery {
  return db
    .updateTable('dcr_initial_access_tokens')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .compile();
}

export function insertAuditEvent(db: Db, row: Insertable<AuditEventsTable>): CompiledQuery {
  return db.insertInto('dcr_audit_events').values(row).compile();
}

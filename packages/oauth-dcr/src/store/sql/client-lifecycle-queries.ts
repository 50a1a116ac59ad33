import { type ExpressionBuilder, type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { CompiledQuery, Selectable } from 'kysely';
import type { IdleBounds } from '../idle-rule.js';
import type { ClientsTable, Database, SqlDialectName } from './schema.js';

/*
 * Statements for operator tools, limits and the idle-client reaper, for both dialects (see
 * ./queries.ts for how a store runs them). Their indexes come with migration 0004.
 */

type Db = Kysely<Database>;

type TierCount = { registered_via: string; count: number | string };

/**
 * PostgreSQL: one GROUP BY over the leading column of dcr_clients_idle (an index-only scan).
 * SQLite: the per-tier counts its triggers keep (see migration 0004), a few rows.
 */
export function countClientsByTier(db: Db, dialect: SqlDialectName): CompiledQuery<TierCount> {
  if (dialect === 'sqlite') {
    return sql<TierCount>`select registered_via, count from dcr_client_counts where count > 0`.compile(db);
  }
  return db
    .selectFrom('dcr_clients')
    .select(['registered_via', (eb) => eb.fn.countAll<number | string>().as('count')])
    .groupBy('registered_via')
    .compile();
}

/** Moves the revision too: a compare-and-set derived from an earlier read must fail. */
export function setClientDisabled(db: Db, clientId: string, at: number | null): CompiledQuery {
  return db
    .updateTable('dcr_clients')
    .set({ disabled_at: at, revision: sql<number>`revision + 1` })
    .where('client_id', '=', clientId)
    .compile();
}

/** Newest first, through the partial index dcr_clients_fingerprint. */
export function selectClientByFingerprint(
  db: Db,
  fingerprint: string,
  createdSince: number,
): CompiledQuery<Selectable<ClientsTable>> {
  return db
    .selectFrom('dcr_clients')
    .selectAll()
    .where('registration_fingerprint', '=', fingerprint)
    .where('created_at', '>=', createdSince)
    .orderBy('created_at', 'desc')
    .orderBy('client_id', 'desc')
    .limit(1)
    .compile();
}

/** The idle clients of one tier, oldest first, at most `bounds.limit`, leaving out `keep`. */
export function selectIdleClients(
  db: Db,
  bounds: IdleBounds,
  keep: readonly string[],
): CompiledQuery<Selectable<ClientsTable>> {
  return oldestIdle(db, bounds, keep, (query) => query.selectAll()).compile();
}

/**
 * Deletes a batch of idle clients in one statement and returns their ids. The batch is picked by
 * the rule inside this statement, so a client used since a findIdleClients is not in it.
 *
 * PostgreSQL (READ COMMITTED) picks the batch from the statement's snapshot, then locks each row:
 * a row whose last_used_at another transaction moved meanwhile must be judged on its new version,
 * so the rule is repeated on the rows deleted, which PostgreSQL re-evaluates on the locked version.
 * SQLite has one writer at a time and a statement sees no other's changes while it runs, so the
 * pick is the check; repeating the rule there would hand its planner (which has no statistics
 * unless ANALYZE ran) an index on registered_via to scan the whole tier with, instead of looking
 * the batch up by primary key (measured: 250 ms of CPU per batch among 300 000 clients).
 */
export function deleteIdleClients(
  db: Db,
  dialect: SqlDialectName,
  bounds: IdleBounds,
  keep: readonly string[],
): CompiledQuery<{ client_id: string }> {
  const batch = oldestIdle(db, bounds, keep, (query) => query.select(['client_id', 'last_used_at', 'created_at']));
  let query = db
    .deleteFrom('dcr_clients')
    .where('client_id', 'in', db.selectFrom(batch.as('batch')).select('client_id'));
  if (dialect === 'postgres') query = query.where((eb) => isIdle(eb, bounds, keep));
  return query.returning('client_id').compile();
}

type ClientsQuery = SelectQueryBuilder<Database, 'dcr_clients', object>;

/**
 * The two rules as two index range scans on dcr_clients_idle (registered_via, last_used_at,
 * created_at), each in index order and cut at the limit, then merged: at most twice the limit rows
 * are read however many clients there are. One `coalesce(last_used_at, created_at) < ?` would not
 * be an index range on either dialect.
 */
function oldestIdle<O>(
  db: Db,
  bounds: IdleBounds,
  keep: readonly string[],
  columns: (query: ClientsQuery) => SelectQueryBuilder<Database, 'dcr_clients', O>,
) {
  const tier = (query: ClientsQuery) => {
    const inTier = query.where('registered_via', '=', bounds.registeredVia);
    return keep.length === 0 ? inTier : inTier.where('client_id', 'not in', keep);
  };
  const neverUsed = columns(
    tier(db.selectFrom('dcr_clients'))
      .where('last_used_at', 'is', null)
      .where('created_at', '<', bounds.neverUsedBefore!),
  )
    // last_used_at is NULL in every row here, but PostgreSQL does not take `is null` as fixing a
    // column for ordering: without it, it sorts every never-used client of the tier (a full scan)
    // instead of reading the index in order.
    .orderBy('last_used_at')
    .orderBy('created_at')
    .limit(bounds.limit);
  const candidates =
    bounds.usedBefore === undefined
      ? db.selectFrom(neverUsed.as('never_used')).selectAll()
      : db
          .selectFrom(neverUsed.as('never_used'))
          .selectAll()
          .unionAll(
            db
              .selectFrom(
                columns(tier(db.selectFrom('dcr_clients')).where('last_used_at', '<', bounds.usedBefore))
                  .orderBy('last_used_at')
                  .orderBy('created_at')
                  .limit(bounds.limit)
                  .as('used'),
              )
              .selectAll(),
          );
  return db
    .selectFrom(candidates.as('idle'))
    .selectAll()
    .orderBy(sql`coalesce(last_used_at, created_at)`)
    .orderBy(sql.ref('client_id'))
    .limit(bounds.limit);
}

/** The rule itself, for the delete's own re-check. */
function isIdle(eb: ExpressionBuilder<Database, 'dcr_clients'>, bounds: IdleBounds, keep: readonly string[]) {
  const rules = [eb.and([eb('last_used_at', 'is', null), eb('created_at', '<', bounds.neverUsedBefore!)])];
  if (bounds.usedBefore !== undefined) rules.push(eb('last_used_at', '<', bounds.usedBefore));
  const checks = [eb('registered_via', '=', bounds.registeredVia), eb.or(rules)];
  if (keep.length > 0) checks.push(eb('client_id', 'not in', keep));
  return eb.and(checks);
}

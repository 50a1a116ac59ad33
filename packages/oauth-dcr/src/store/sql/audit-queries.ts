import { sql } from 'kysely';
import type { CompiledQuery, Kysely, Selectable } from 'kysely';
import type { AuditEventType } from '../types.js';
import type { AuditEventsTable, Database, SqlDialectName } from './schema.js';

/*
 * Reading and pruning the audit trail (see ./queries.ts for how a store runs a statement). Indexes:
 * (client_id, id) from 0001 for a client's trail, (at, id) from 0004 for `since` and retention.
 * A type filter alone has no index of its own: it walks the newest events back until it has
 * `limit` of them, which keeps every append (on the registration path) one index cheaper.
 */

type Db = Kysely<Database>;

/** The newest `limit` matching events, newest first; the store reverses them into insertion order. */
export function selectLatestAuditEvents(
  db: Db,
  dialect: SqlDialectName,
  options: { clientId: string | undefined; type: AuditEventType | undefined; since: number | undefined; limit: number },
): CompiledQuery<Selectable<AuditEventsTable>> {
  // With `since` alone, SQLite's planner (no statistics unless ANALYZE ran) walks the primary key
  // back from the newest event, which reads the whole trail when fewer than `limit` events are that
  // recent. `+id` (SQLite's way to keep a term off an index) makes it read the (at, id) range and
  // sort that instead. PostgreSQL chooses from its statistics.
  const newestFirst = dialect === 'sqlite' && options.since !== undefined && options.clientId === undefined;
  let query = db
    .selectFrom('dcr_audit_events')
    .selectAll()
    .orderBy(newestFirst ? sql`+id` : sql.ref('id'), 'desc')
    .limit(options.limit);
  if (options.clientId !== undefined) query = query.where('client_id', '=', options.clientId);
  if (options.type !== undefined) query = query.where('type', '=', options.type);
  if (options.since !== undefined) query = query.where('at', '>=', options.since);
  return query.compile();
}

/**
 * Deletes the oldest `limit` events before `before` in one statement: a retention batch is a range
 * scan at the start of dcr_audit_events_at, however long the trail.
 */
export function deleteAuditEventsBefore(db: Db, before: number, limit: number): CompiledQuery {
  const oldest = db
    .selectFrom('dcr_audit_events')
    .select('id')
    .where('at', '<', before)
    .orderBy('at')
    .orderBy('id')
    .limit(limit);
  return db.deleteFrom('dcr_audit_events').where('id', 'in', oldest).compile();
}

import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import { checkEpochSeconds } from '../epoch.js';
import { deepFreeze } from '../frozen.js';
import { auditText } from '../text.js';
import type { AuditEventQuery, AuditEventType, ClientCounts, RegistrationVia, StoredAuditEvent } from '../types.js';
import * as auditQueries from './audit-queries.js';
import * as lifecycleQueries from './client-lifecycle-queries.js';
import { checkListLimit } from './list-limit.js';
import { rowToAuditEvent } from './rows.js';
import type { Database, SqlDialectName } from './schema.js';

/** How a SQL store runs a statement (see SqlClientStore.read / write). */
export interface SqlRunner {
  db: Kysely<Database>;
  dialect: SqlDialectName;
  read<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
  write<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/*
 * Store operations that need nothing of the store but its statements (no cache, no pending client
 * uses), kept out of ./sql-store.ts.
 */

/** The newest `limit` (default 100) matching events, oldest first (insertion order). */
export async function listAuditEvents(runner: SqlRunner, options: AuditEventQuery): Promise<StoredAuditEvent[]> {
  const limit = checkListLimit(options.limit);
  checkEpochSeconds('since', options.since);
  const { rows } = await runner.read(
    auditQueries.selectLatestAuditEvents(runner.db, runner.dialect, {
      // Filters on text fields read NUL as stored (U+FFFD), see ../text.ts; PostgreSQL would
      // refuse the statement rather than find nothing.
      clientId: options.clientId === undefined ? undefined : auditText(options.clientId),
      type: options.type === undefined ? undefined : (auditText(options.type) as AuditEventType),
      since: options.since,
      limit,
    }),
  );
  return rows.reverse().map((row) => deepFreeze(rowToAuditEvent(row)));
}

export async function deleteAuditEventsBefore(runner: SqlRunner, before: number, limit: number): Promise<number> {
  checkEpochSeconds('before', before);
  if (checkListLimit(limit) === 0) return 0;
  const { numAffectedRows } = await runner.write(auditQueries.deleteAuditEventsBefore(runner.db, before, limit));
  return numAffectedRows === undefined ? 0 : Number(numAffectedRows);
}

export async function countClients(runner: SqlRunner): Promise<ClientCounts> {
  const { rows } = await runner.read(lifecycleQueries.countClientsByTier(runner.db, runner.dialect));
  const counts: ClientCounts = { total: 0, byTier: {} };
  for (const row of rows) {
    // COUNT is a BIGINT, which node-postgres returns as a string.
    const count = Number(row.count);
    counts.total += count;
    counts.byTier[row.registered_via as RegistrationVia] = count;
  }
  return counts;
}

import type { AuditEventQuery, AuditEventType, ClientStore } from '../store/types.js';
import { type AdminCommandInput, positiveCount, UsageError, withStore } from './command-input.js';
import { parseDuration } from './settings.js';
import { formatTime, printable, printTable } from './table.js';

/** Every type the trail records, for `--type` (see AuditEventType). */
export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = [
  'client.registered',
  'client.read',
  'client.updated',
  'client.deleted',
  'client.secret_renewed',
  'registration.rejected',
  'token.rejected',
  'initial_access_token.created',
  'initial_access_token.revoked',
  'client.disabled',
  'client.enabled',
  'client.reaped',
  'client.authentication_failed',
  'request.rate_limited',
  'client_document.fetched',
];

const DEFAULT_AUDIT_LIMIT = 100;

/**
 * `oauth-dcr audit [--client ID] [--type T] [--since 24h] [--limit N] [--json]`: the persisted
 * audit trail (the `persistAuditEvents` option), newest `limit` matching events, oldest first.
 */
export async function runAuditCommand(input: AdminCommandInput, extra: string | undefined): Promise<void> {
  if (extra !== undefined) throw new UsageError(`audit takes options only, got ${JSON.stringify(extra)}`);
  // Options are checked before any database is opened.
  const query = auditQuery(input);
  return withStore(input, (store) => printAudit(store.clients, query, input));
}

function auditQuery(input: AdminCommandInput): AuditEventQuery {
  const { flags } = input;
  const query: AuditEventQuery = { limit: positiveCount('--limit', flags.limit, DEFAULT_AUDIT_LIMIT, 10_000) };
  if (flags.client !== undefined) query.clientId = flags.client;
  if (flags.type !== undefined) {
    if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(flags.type))
      throw new UsageError(`--type must be one of ${AUDIT_EVENT_TYPES.join(', ')}`);
    query.type = flags.type as AuditEventType;
  }
  if (flags.since !== undefined) query.since = sinceTime(flags.since);
  return query;
}

/** `--since 24h` (that long ago) or `--since 2026-11-30T00:00:00Z` (an ISO 8601 time). */
function sinceTime(value: string): number {
  const ago = parseDuration(value);
  if (ago !== undefined) return Math.floor(Date.now() / 1000) - ago;
  const at = /^\d{4}-\d\d-\d\d/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at))
    throw new UsageError('--since must be a duration like 24h or 7d, or a time like 2026-11-30T00:00:00Z');
  return Math.floor(at / 1000);
}

async function printAudit(store: ClientStore, query: AuditEventQuery, input: AdminCommandInput): Promise<void> {
  const events = await store.listAuditEvents(query);
  if (input.flags.json) {
    // One object per line (JSON Lines), for jq and log shippers.
    for (const event of events) input.output.out(JSON.stringify(event));
    return;
  }
  if (events.length === 0) {
    input.output.out('no audit events');
    return;
  }
  printTable(
    input.output,
    ['TIME', 'TYPE', 'CLIENT', 'ACTOR', 'ADDRESS', 'DETAIL'],
    events.map((event) => [
      formatTime(event.at),
      event.type,
      event.clientId ?? '',
      event.actor ?? '',
      event.ip ?? '',
      printable(event.detail === undefined ? '' : JSON.stringify(event.detail)),
    ]),
  );
}

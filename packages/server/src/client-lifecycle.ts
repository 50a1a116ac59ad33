import type { AuditEvent, Registration } from 'oauth-dcr';
import type { ServerConfig, StorageConfig } from './config.js';
import type { Logger } from './logger.js';
import { pruneStorage } from './storage/maintenance.js';
import type { ServerStorage } from './storage/open-storage.js';

/**
 * What happens to clients and the audit trail while the server runs: a client that is deleted
 * (RFC 7592 §2.3, an operator), disabled or reaped loses its tokens and codes; idle clients are
 * reaped on an interval; expired codes and tokens, and audit events past their retention, are pruned.
 */

/** Events after which a client's access tokens, refresh tokens and pending codes are revoked. */
const REVOKING_EVENTS: ReadonlySet<AuditEvent['type']> = new Set([
  'client.deleted',
  'client.disabled',
  'client.reaped',
]);

/**
 * Revokes the tokens and codes of the clients an event takes out of service (one client, or a
 * reaper batch: `detail.client_ids`). This is the prompt clean-up; it is not what keeps the client
 * out: every code, token and client look-up goes through the library's client look-up, which finds
 * no deleted client and refuses a disabled one, so a change made by another process (the
 * `oauth-dcr` CLI, another instance) is enforced at once, and introspection answers `active: false`.
 * Clients are revoked one at a time, events in the order they came (one queue per revoker), so
 * a reaper run over a million clients never floods the database.
 */
export function clientRevoker(storage: ServerStorage, logger: Logger): (event: AuditEvent) => Promise<void> {
  let queue: Promise<void> = Promise.resolve();
  return (event) => {
    if (!REVOKING_EVENTS.has(event.type)) return Promise.resolve();
    queue = queue.then(() => revokeClients(event, storage, logger));
    return queue;
  };
}

async function revokeClients(event: AuditEvent, storage: ServerStorage, logger: Logger): Promise<void> {
  // A client reaped as never used never reached the token endpoint (a use is recorded there), so
  // it holds no token, and its codes expired long before the one-hour floor of the rule: a
  // million such clients need no million revocations.
  if (event.type === 'client.reaped' && event.detail?.reason === 'never_used') return;
  const batch = event.detail?.client_ids;
  const clientIds = event.clientId
    ? [event.clientId]
    : Array.isArray(batch)
      ? batch.filter((id): id is string => typeof id === 'string')
      : [];
  {
    let revoked = 0;
    for (const clientId of clientIds) {
      try {
        revoked += await storage.tokens.revokeClient(clientId, event.at);
      } catch (error) {
        logger.warn({ err: error, clientId }, "revoking a client's tokens failed");
      }
    }
    if (revoked > 0) logger.info({ event: event.type, clients: clientIds.length, revoked }, 'client tokens revoked');
  }
}

/** Expired codes and tokens, and audit events past DCR_AUDIT_RETENTION, are deleted this often. */
export const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

export interface MaintenanceTimers {
  /** One reaper run now (as the timer does), unless one is already running; resolves when done. */
  reapNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The prune timer and the idle reaper (DCR_REAP_INTERVAL; 0 = off). Both timers are unref'd: they
 * never keep the process alive. One reaper run at a time per process; across instances on one
 * PostgreSQL, a run takes a session advisory lock with pg_try_advisory_lock first and an instance
 * that does not get it skips its turn, so only one instance reaps at any moment. Runs that follow
 * one another in the same interval are harmless: the reaper deletes only clients still idle at
 * the moment of its statement, so a second run finds nothing left to delete.
 */
export function startMaintenance(input: {
  config: ServerConfig;
  storage: ServerStorage;
  registration: Pick<Registration, 'reapIdleClients' | 'pruneAuditEvents'>;
  logger: Logger;
}): MaintenanceTimers {
  const { config, storage, registration, logger } = input;
  const pruneTimer = setInterval(() => {
    pruneStorage(storage, config.lifetimes.accessToken)
      .then((pruned) => pruned > 0 && logger.info({ pruned }, 'expired codes, tokens, assertions and keys deleted'))
      .catch((error: unknown) => logger.warn({ err: error }, 'pruning expired tokens failed'));
    registration
      .pruneAuditEvents()
      .then((pruned) => pruned > 0 && logger.info({ pruned }, 'audit events past their retention deleted'))
      .catch((error: unknown) => logger.warn({ err: error }, 'pruning the audit trail failed'));
  }, PRUNE_INTERVAL_MS);
  pruneTimer.unref();

  let running: Promise<void> | undefined;
  const reapNow = (): Promise<void> =>
    (running ??= withReaperLock(config.storage, async () => {
      const report = await registration.reapIdleClients();
      if (report.total > 0) logger.info({ reaped: report.total, byTier: report.byTier }, 'idle clients reaped');
    })
      .then(() => undefined)
      .catch((error: unknown) => logger.warn({ err: error }, 'reaping idle clients failed'))
      .finally(() => {
        running = undefined;
      }));
  const reapTimer = config.reapInterval > 0 ? setInterval(() => void reapNow(), config.reapInterval * 1000) : undefined;
  reapTimer?.unref();

  return {
    reapNow,
    async stop() {
      clearInterval(pruneTimer);
      if (reapTimer) clearInterval(reapTimer);
      await running;
    },
  };
}

/**
 * Runs `work` while holding the reaper's advisory lock on PostgreSQL, or skips it when another
 * session holds it. The lock is a session lock on a connection of its own, released explicitly
 * and, should this process die, by PostgreSQL when the connection drops. Keyed on the schema, so
 * that deployments (and tests) in other schemas of one database do not wait for each other.
 * SQLite and memory serve one process: no lock needed.
 */
export async function withReaperLock(storage: StorageConfig, work: () => Promise<void>): Promise<boolean> {
  if (storage.kind !== 'postgres') {
    await work();
    return true;
  }
  const { default: pg } = await import('pg');
  const connection = new pg.Client({ connectionString: storage.url });
  await connection.connect();
  try {
    const key = `oauth-dcr idle reaper ${storage.schema ?? 'public'}`;
    const locked = await connection.query<{ locked: boolean }>(
      'select pg_try_advisory_lock(hashtextextended($1, 0)) as locked',
      [key],
    );
    if (!locked.rows[0]?.locked) return false;
    try {
      await work();
    } finally {
      await connection.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]);
    }
    return true;
  } finally {
    await connection.end();
  }
}

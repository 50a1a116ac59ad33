import type { AuditEvent, AuditEventType, ClientStore, StoredAuditEvent } from 'oauth-dcr';
import type { Logger } from './logger.js';

/**
 * Follows the persisted audit trail for clients disabled by ANOTHER process (`npx oauth-dcr
 * clients disable`, another instance's admin page) and revokes their tokens and codes here too,
 * within one interval.
 *
 * Refusal does not depend on this: every look-up already refuses a disabled client at once. What
 * it adds is that the token rows are revoked, so a client disabled by the CLI and enabled again
 * later does not get its old tokens back. A client already enabled again when the event is read is
 * left alone: revoking then would also take the tokens issued since. Deleted and reaped clients
 * are not followed: their ids never resolve again, so their tokens can never be used. Needs the
 * audit trail persisted (DCR_PERSIST_AUDIT, on by default) by whoever made the change.
 */
const FOLLOWED: readonly AuditEventType[] = ['client.disabled'];

/** Events are read back this far before the last read, for clocks a little apart between hosts. */
const CLOCK_SLACK_SECONDS = 60;

export interface AuditFollower {
  /** One read of the trail now (as the timer does); resolves when its revocations are done. */
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

export function followClientEvents(input: {
  store: ClientStore;
  revoke: (event: AuditEvent) => Promise<void>;
  intervalMs: number;
  logger: Logger;
}): AuditFollower {
  const { store, revoke, logger } = input;
  let since = Math.floor(Date.now() / 1000);
  /** Ids already applied, kept while they can still be read back (the slack). */
  let applied = new Map<number, number>();
  let running: Promise<void> | undefined;

  async function sweepOnce(): Promise<void> {
    const readAt = Math.floor(Date.now() / 1000);
    const from = since - CLOCK_SLACK_SECONDS;
    for (const type of FOLLOWED) {
      const events = await store.listAuditEvents({ type, since: from, limit: 1000 });
      for (const event of events) {
        if (applied.has(event.id)) continue;
        applied.set(event.id, event.at);
        if (await stillOutOfService(store, event)) await revoke(event);
      }
    }
    since = readAt;
    applied = new Map([...applied].filter(([, at]) => at >= readAt - 2 * CLOCK_SLACK_SECONDS));
  }

  const sweep = (): Promise<void> =>
    (running ??= sweepOnce()
      .catch((error: unknown) => logger.warn({ err: error }, 'reading the audit trail for client changes failed'))
      .finally(() => {
        running = undefined;
      }));
  const timer = setInterval(() => void sweep(), input.intervalMs);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** A disabled client still disabled (or since deleted). */
async function stillOutOfService(store: ClientStore, event: StoredAuditEvent): Promise<boolean> {
  if (!event.clientId) return false;
  const client = await store.findClient(event.clientId);
  return client === null || client.disabledAt !== undefined;
}

import type { ResolvedIdleClientRule } from '../core/lifecycle-options.js';
import type { IdleClientQuery, RegistrationVia } from '../store/types.js';
import { emitEvent } from './events.js';
import type { Policy } from './policy.js';

/*
 * The idle-client reaper. Open registration lets anyone create clients; most of those that never
 * come back are abandoned (a client that registers on every start), and nothing else removes them.
 * Each tier with a rule (the `idleClients` option) is reaped by last use, as `recordClientUse`
 * keeps it: clients never used within N seconds of registering, and clients unused for N seconds.
 */

export interface ReapOptions {
  /** Report what would be deleted, delete nothing. */
  dryRun?: boolean;
  /** Clients deleted per statement. Default 100. */
  batchSize?: number;
  /** A dry run lists at most this many clients per tier. Default 10 000. */
  dryRunLimit?: number;
}

/** Why a client was reaped, as `client.reaped` events and reports say. */
export type ReapReason = 'never_used' | 'unused';

export interface ReapReport {
  /** Clients deleted (or, in a dry run, that would be), by tier: every tier with a rule, 0 included. */
  byTier: Record<string, number>;
  total: number;
  /** The ids (at most the first 1000), for a dry run's listing. */
  clientIds: string[];
  /** Whether a dry run stopped counting at `dryRunLimit` in some tier (so the counts are lower bounds). */
  truncated?: boolean;
}

/**
 * 100: on SQLite a batch is a synchronous statement on the server's one thread (measured 4-8 ms
 * for 100 among a million clients), so a batch must stay shorter than a registration's own p99.
 */
export const DEFAULT_REAP_BATCH_SIZE = 100;
const DEFAULT_DRY_RUN_LIMIT = 10_000;
const MAX_LISTED_IDS = 1000;

/**
 * Runs the reaper once over every tier with a rule. Deletes in batches with
 * `store.deleteIdleClients`, which checks the rule again in the same statement, so a client used
 * since a dry run listed it (or since the batch was chosen) is kept. Between batches it yields to
 * the event loop and then waits as long as the batch took, so the reaper never takes more than
 * half of the server's time and a million idle clients never hold a request back for more than one
 * batch.
 *
 * One `client.reaped` event per batch, not per client: a million deletions must not become a
 * million audit writes. Its detail names the tier, the reason, the count and the client ids of the
 * batch, so hosts can revoke those clients' tokens and codes.
 */
export async function reapIdleClients(policy: Policy, options: ReapOptions = {}): Promise<ReapReport> {
  const batchSize = checkCount('batchSize', options.batchSize ?? DEFAULT_REAP_BATCH_SIZE);
  const report: ReapReport = { byTier: {}, total: 0, clientIds: [] };
  const now = policy.now();
  for (const [tier, rule] of Object.entries(policy.idleClients) as [RegistrationVia, ResolvedIdleClientRule][]) {
    report.byTier[tier] = 0;
    if (options.dryRun) {
      const limit = checkCount('dryRunLimit', options.dryRunLimit ?? DEFAULT_DRY_RUN_LIMIT);
      const idle = await policy.store.findIdleClients({ ...ruleQuery(tier, rule, now), limit });
      if (idle.length >= limit) report.truncated = true;
      count(
        report,
        tier,
        idle.map((client) => client.clientId),
      );
      continue;
    }
    for (const reason of ['never_used', 'unused'] as const) {
      const query = reasonQuery(tier, rule, reason, now);
      if (query === undefined) continue;
      for (;;) {
        const started = Date.now();
        const deleted = await policy.store.deleteIdleClients({ ...query, limit: batchSize });
        if (deleted.length > 0) {
          count(report, tier, deleted);
          emitEvent(policy, {
            type: 'client.reaped',
            actor: 'reaper',
            detail: { tier, reason, count: deleted.length, client_ids: deleted },
          });
        }
        if (deleted.length < batchSize) break;
        await yieldToEventLoop();
        await pause(Date.now() - started);
      }
    }
  }
  return report;
}

/** Audit events deleted per statement. */
const AUDIT_PRUNE_BATCH_SIZE = 1000;

/**
 * Deletes audit events older than the `auditRetention` option (none when it is 0), in batches,
 * yielding between them; resolves how many.
 */
export async function pruneAuditEvents(policy: Policy): Promise<number> {
  if (policy.auditRetention === 0) return 0;
  const before = policy.now() - policy.auditRetention;
  let total = 0;
  for (;;) {
    const deleted = await policy.store.deleteAuditEventsBefore(before, AUDIT_PRUNE_BATCH_SIZE);
    total += deleted;
    if (deleted < AUDIT_PRUNE_BATCH_SIZE) return total;
    await yieldToEventLoop();
  }
}

/** Both rules of a tier at once: what a dry run lists (a client idle by either rule, once). */
function ruleQuery(tier: RegistrationVia, rule: ResolvedIdleClientRule, now: number): Omit<IdleClientQuery, 'limit'> {
  return {
    registeredVia: tier,
    ...(rule.neverUsedWithin !== undefined ? { neverUsedCreatedBefore: now - rule.neverUsedWithin } : {}),
    ...(rule.unusedFor !== undefined ? { unusedSince: now - rule.unusedFor } : {}),
  };
}

/** One rule of a tier, so that each deletion's reason is known. */
function reasonQuery(
  tier: RegistrationVia,
  rule: ResolvedIdleClientRule,
  reason: ReapReason,
  now: number,
): Omit<IdleClientQuery, 'limit'> | undefined {
  if (reason === 'never_used') {
    return rule.neverUsedWithin === undefined
      ? undefined
      : { registeredVia: tier, neverUsedCreatedBefore: now - rule.neverUsedWithin };
  }
  return rule.unusedFor === undefined ? undefined : { registeredVia: tier, unusedSince: now - rule.unusedFor };
}

function count(report: ReapReport, tier: RegistrationVia, ids: string[]): void {
  report.byTier[tier] = (report.byTier[tier] ?? 0) + ids.length;
  report.total += ids.length;
  for (const id of ids) {
    if (report.clientIds.length >= MAX_LISTED_IDS) break;
    report.clientIds.push(id);
  }
}

function checkCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 100_000) {
    throw new TypeError(`oauth-dcr: ${name} must be a whole number from 1 to 100000`);
  }
  return value;
}

/**
 * Lets pending I/O and timers run before the next batch. setImmediate where the runtime has it
 * (Node, Bun, Deno); a zero timeout elsewhere (Workers).
 */
function pause(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

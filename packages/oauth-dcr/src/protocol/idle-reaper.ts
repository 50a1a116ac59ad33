import type { Policy } from './policy.js';

export interface ReapOptions {
  /** Report what would be deleted, delete nothing. */
  dryRun?: boolean;
  /** Clients deleted per statement. Default 500. */
  batchSize?: number;
}

export interface ReapReport {
  /** Clients deleted (or, in a dry run, that would be), by tier. */
  byTier: Record<string, number>;
  total: number;
  /** The ids (at most the first 1000), for a dry run's listing. */
  clientIds: string[];
}

/** SCAFFOLD: replaced by the operator-tools work. */
export async function reapIdleClients(_policy: Policy, _options: ReapOptions = {}): Promise<ReapReport> {
  return { byTier: {}, total: 0, clientIds: [] };
}

/** SCAFFOLD: replaced by the operator-tools work. */
export async function pruneAuditEvents(_policy: Policy): Promise<number> {
  return 0;
}

import { checkEpochSeconds } from './epoch.js';
import { checkListLimit } from './sql/list-limit.js';
import type { ClientRecord, IdleClientQuery } from './types.js';

/**
 * The idle-client rule of IdleClientQuery, reduced to two bounds that every store can check with
 * plain comparisons (and SQL can answer from an index on registered_via, last_used_at, created_at):
 * - a never-used client is idle when created before `neverUsedBefore`: the later of
 *   `neverUsedCreatedBefore` and `unusedSince`, since "unused since" counts a never-used client
 *   from its creation (coalesce(last_used_at, created_at));
 * - a used client is idle when last used before `usedBefore` (= `unusedSince`).
 * A bound left out matches nothing.
 */
export interface IdleBounds {
  registeredVia: IdleClientQuery['registeredVia'];
  neverUsedBefore: number | undefined;
  usedBefore: number | undefined;
  limit: number;
}

/** The bounds of a query, or null when it can match nothing (no rule, or a limit of 0). */
export function idleBounds(query: IdleClientQuery): IdleBounds | null {
  const limit = checkListLimit(query.limit);
  const { neverUsedCreatedBefore, unusedSince } = query;
  checkEpochSeconds('neverUsedCreatedBefore', neverUsedCreatedBefore);
  checkEpochSeconds('unusedSince', unusedSince);
  const neverUsedBefore =
    neverUsedCreatedBefore === undefined
      ? unusedSince
      : unusedSince === undefined
        ? neverUsedCreatedBefore
        : Math.max(neverUsedCreatedBefore, unusedSince);
  if (limit === 0 || neverUsedBefore === undefined) return null;
  return { registeredVia: query.registeredVia, neverUsedBefore, usedBefore: unusedSince, limit };
}

/** Whether a stored client is idle under these bounds. */
export function isIdleClient(record: ClientRecord, bounds: IdleBounds): boolean {
  if (record.registeredVia !== bounds.registeredVia) return false;
  if (record.lastUsedAt === undefined) {
    return bounds.neverUsedBefore !== undefined && record.createdAt < bounds.neverUsedBefore;
  }
  return bounds.usedBefore !== undefined && record.lastUsedAt < bounds.usedBefore;
}

/** Oldest first: by last use, or creation when never used; ties by client_id. */
export function idleAge(record: ClientRecord): number {
  return record.lastUsedAt ?? record.createdAt;
}

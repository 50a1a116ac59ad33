/** What listClients and listAuditEvents return when no limit is given. */
export const DEFAULT_LIST_LIMIT = 100;

export function checkListLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new TypeError('limit must be a non-negative integer');
  return limit;
}

/**
 * Freezes a JSON-like value and everything in it. Stores hand out client records frozen, so one
 * record can be shared by every caller that reads it (see the contract in ./types.ts) instead of
 * being copied on each read. An object that is already frozen is taken to be frozen throughout.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}

/**
 * A deep-frozen copy of a JSON-like value, leaving out properties whose value is undefined (as a
 * JSON round trip would, and as the SQL stores do with NULL columns). One pass instead of
 * JSON.parse(JSON.stringify(...)) followed by deepFreeze: a third of the cost for a client record.
 */
export function frozenCopy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  // As JSON.stringify does (a Date becomes its ISO string), so the SQL stores agree.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return frozenCopy((value as unknown as { toJSON(): T }).toJSON());
  if (Array.isArray(value))
    return Object.freeze(value.map((item: unknown) => (item === undefined ? null : frozenCopy(item)))) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) copy[key] = frozenCopy(item);
  }
  return Object.freeze(copy) as T;
}

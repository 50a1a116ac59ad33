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

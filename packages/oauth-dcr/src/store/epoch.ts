/**
 * Refuses a time that is not integer epoch seconds (the contract's unit, ./types.ts), before it
 * reaches a query: PostgreSQL would refuse `1.5` for a BIGINT parameter as a whole-statement
 * error, and the memory store would silently compare it, so every store rejects it alike.
 */
export function checkEpochSeconds(field: string, value: number | null | undefined): void {
  if (value !== undefined && value !== null && !Number.isSafeInteger(value)) {
    throw new TypeError(`${field} must be an integer epoch second, got ${value}`);
  }
}

import { frozenCopy } from './frozen.js';
import { checkListLimit } from './sql/list-limit.js';
import { auditText, storableAuditEvent } from './text.js';
import type { AuditEvent, AuditEventQuery, StoredAuditEvent } from './types.js';

/** Audit events the memory store keeps at least (the newest); older ones are dropped in batches. */
export const MAX_MEMORY_AUDIT_EVENTS = 10_000;
/** How far past the limit the trail may grow before the oldest events are dropped at once. */
const AUDIT_TRIM_BATCH = 2_500;

/** The memory store's audit trail: bounded, in insertion order, with the SQL stores' filters. */
export class MemoryAuditTrail {
  #events: StoredAuditEvent[] = [];
  #nextId = 1;

  append(event: AuditEvent): void {
    this.#events.push(frozenCopy({ ...storableAuditEvent(event), id: this.#nextId++ }));
    // A process-memory trail is bounded: the newest events are the useful ones, and an
    // unbounded array would grow for as long as the server runs. Trimmed in batches: cutting one
    // event off the front of a 10 000-element array on every append cost 50-100 us each.
    if (this.#events.length >= MAX_MEMORY_AUDIT_EVENTS + AUDIT_TRIM_BATCH) {
      this.#events.splice(0, this.#events.length - MAX_MEMORY_AUDIT_EVENTS);
    }
  }

  /** The newest `limit` (default 100) matching events, oldest first (insertion order). */
  list(query: AuditEventQuery): StoredAuditEvent[] {
    const limit = checkListLimit(query.limit);
    if (limit === 0) return [];
    // Filters on text fields read NUL as stored (U+FFFD), see ../text.ts.
    const clientId = query.clientId === undefined ? undefined : auditText(query.clientId);
    const { type, since } = query;
    if (clientId === undefined && type === undefined && since === undefined) return this.#events.slice(-limit);
    const found: StoredAuditEvent[] = [];
    for (let i = this.#events.length - 1; i >= 0 && found.length < limit; i--) {
      const event = this.#events[i]!;
      if (clientId !== undefined && event.clientId !== clientId) continue;
      if (type !== undefined && event.type !== type) continue;
      if (since !== undefined && event.at < since) continue;
      found.push(event);
    }
    return found.reverse();
  }

  /** Deletes at most `limit` events with `at` before `before`, oldest (by at, then id) first. */
  deleteBefore(before: number, limit: number): number {
    checkListLimit(limit);
    const old = this.#events.filter((event) => event.at < before);
    if (old.length === 0 || limit === 0) return 0;
    old.sort((a, b) => a.at - b.at || a.id - b.id);
    const doomed = new Set(old.slice(0, limit).map((event) => event.id));
    this.#events = this.#events.filter((event) => !doomed.has(event.id));
    return doomed.size;
  }
}

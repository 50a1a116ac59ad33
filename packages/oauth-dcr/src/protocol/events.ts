import type { Policy } from './policy.js';
import type { AuditEvent } from '../store/types.js';

/**
 * One event per outcome. Listeners must not be able to fail a request that already succeeded,
 * so their errors are contained; persisting is fire-and-forget for the same reason.
 */
export function emitEvent(policy: Policy, event: Omit<AuditEvent, 'at'>): void {
  // The persisted trail records changes and refusals. A read changes nothing, and making every
  // RFC 7592 read a durable write would cost more than the read itself; listeners still see it.
  const persist = policy.persistAuditEvents && event.type !== 'client.read';
  // Reads are the hot path: with nobody to tell, no event is built at all.
  if (!persist && policy.onEvent === undefined) return;
  const full: AuditEvent = { type: event.type, at: policy.now() };
  if (event.clientId !== undefined) full.clientId = event.clientId;
  if (event.actor !== undefined) full.actor = event.actor;
  if (event.ip !== undefined) full.ip = event.ip;
  if (event.detail !== undefined) full.detail = event.detail;
  try {
    policy.onEvent?.(full);
  } catch {
    // A broken listener is the host's bug; the registration stands.
  }
  if (persist) policy.store.appendAuditEvent(full).catch(() => {});
}

import type { Policy } from '../policy.js';
import type { AuditEvent } from '../store/types.js';

/**
 * One event per outcome. Listeners must not be able to fail a request that already succeeded,
 * so their errors are contained; persisting is fire-and-forget for the same reason.
 */
export function emitEvent(policy: Policy, event: Omit<AuditEvent, 'at'>): void {
  const full: AuditEvent = { ...event, at: policy.now() };
  if (full.ip === undefined) delete full.ip;
  try {
    policy.onEvent?.(full);
  } catch {
    // A broken listener is the host's bug; the registration stands.
  }
  // The persisted trail records changes and refusals. A read changes nothing, and making every
  // RFC 7592 read a durable write would cost more than the read itself; listeners still see it.
  if (policy.persistAuditEvents && full.type !== 'client.read') {
    policy.store.appendAuditEvent(full).catch(() => {});
  }
}

import type { RegistrationVia } from '../store/types.js';

/*
 * A client's life after registration: when idle clients are reaped, and how long the audit trail
 * is kept. Plain data, checked once; the reaper (src/protocol/idle-reaper.ts) runs on it.
 */

/** When a tier's clients count as idle. Either rule may be left out; both out means never reaped. */
export interface IdleClientRule {
  /** Seconds after registering within which a client must be used at least once. */
  neverUsedWithin?: number;
  /** Seconds since the last use (or registration, when never used) after which a client is idle. */
  unusedFor?: number;
}

/** The lifecycle options of RegistrationOptions. */
export interface LifecycleOptions {
  /**
   * Idle-client rules per tier. Default: only `anonymous` clients are reaped (never used within 24
   * hours, or unused for 90 days). Clients admitted by an initial access token, a statement or an
   * operator are never reaped unless their tier is given here.
   */
  idleClients?: Partial<Record<RegistrationVia, IdleClientRule | false>>;
  /** Seconds audit events are kept; older ones are pruned. Default 90 days; 0 keeps them forever. */
  auditRetention?: number;
}

export interface ResolvedLifecycleOptions {
  idleClients: Partial<Record<RegistrationVia, IdleClientRule>>;
  auditRetention: number;
}

export const DEFAULT_IDLE_CLIENTS: Partial<Record<RegistrationVia, IdleClientRule>> = {
  anonymous: { neverUsedWithin: 24 * 3600, unusedFor: 90 * 86400 },
};

export function resolveLifecycleOptions(options: LifecycleOptions): ResolvedLifecycleOptions {
  const idleClients: Partial<Record<RegistrationVia, IdleClientRule>> = { ...DEFAULT_IDLE_CLIENTS };
  for (const [tier, rule] of Object.entries(options.idleClients ?? {}) as [RegistrationVia, IdleClientRule | false][]) {
    if (rule === false) delete idleClients[tier];
    else idleClients[tier] = rule;
  }
  return { idleClients, auditRetention: options.auditRetention ?? 90 * 86400 };
}

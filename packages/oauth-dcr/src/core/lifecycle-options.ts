import { REGISTRATION_TIERS, type RegistrationVia } from '../store/types.js';

/*
 * A client's life after registration: when idle clients are reaped, and how long the audit trail
 * is kept. Plain data, checked once; the reaper (src/protocol/idle-reaper.ts) runs on it.
 */

/**
 * When a tier's clients count as idle. A rule left out keeps the tier's default (only `anonymous`
 * has one); `false` turns that rule off. A tier with neither rule is never reaped.
 */
export interface IdleClientRule {
  /**
   * Seconds after registering within which a client must be used at least once (at the token
   * endpoint, `recordClientUse`). At least one hour.
   */
  neverUsedWithin?: number | false;
  /** Seconds since the last use (or registration, when never used) after which a client is idle. At least one hour. */
  unusedFor?: number | false;
}

/** The lifecycle options of RegistrationOptions. */
export interface LifecycleOptions {
  /**
   * Idle-client rules per tier. Default: only `anonymous` clients are reaped (never used within 24
   * hours, or unused for 90 days). Clients admitted by an initial access token, a statement or an
   * operator are never reaped unless their tier is given here. `false` for a tier: never reaped.
   */
  idleClients?: Partial<Record<RegistrationVia, IdleClientRule | false>>;
  /**
   * Seconds audit events are kept; `pruneAuditEvents()` deletes older ones. Default 90 days; 0
   * keeps them forever; otherwise at least one hour.
   */
  auditRetention?: number;
}

/** An idle rule after resolution: each rule a number of seconds, or absent (off). */
export interface ResolvedIdleClientRule {
  neverUsedWithin?: number;
  unusedFor?: number;
}

export interface ResolvedLifecycleOptions {
  /** Only tiers with at least one rule. */
  idleClients: Partial<Record<RegistrationVia, ResolvedIdleClientRule>>;
  auditRetention: number;
}

export const DEFAULT_IDLE_CLIENTS: Readonly<Partial<Record<RegistrationVia, ResolvedIdleClientRule>>> = {
  anonymous: { neverUsedWithin: 24 * 3600, unusedFor: 90 * 86400 },
};

export const DEFAULT_AUDIT_RETENTION = 90 * 86400;

/** Below an hour a client that registered and is about to complete its first flow could be reaped. */
const MINIMUM_IDLE_SECONDS = 3600;

const TIERS: readonly RegistrationVia[] = REGISTRATION_TIERS;

function fail(message: string): never {
  throw new TypeError(`oauth-dcr: ${message}`);
}

function checkSeconds(name: string, value: unknown): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MINIMUM_IDLE_SECONDS) {
    fail(`${name} must be a whole number of seconds, at least 3600 (one hour), or false`);
  }
  return value;
}

/**
 * Checks the lifecycle options and merges the idle rules with the defaults, rule by rule: giving
 * `anonymous: { neverUsedWithin: 3600 }` keeps the default `unusedFor` of anonymous clients.
 */
export function resolveLifecycleOptions(options: LifecycleOptions): ResolvedLifecycleOptions {
  const given = options.idleClients ?? {};
  if (typeof given !== 'object' || given === null) fail('idleClients must be an object of tier rules');
  const idleClients: Partial<Record<RegistrationVia, ResolvedIdleClientRule>> = {};
  for (const tier of Object.keys(given)) {
    if (!TIERS.includes(tier as RegistrationVia))
      fail(`idleClients: unknown tier ${tier} (known: ${TIERS.join(', ')})`);
  }
  for (const tier of TIERS) {
    const rule = given[tier];
    const fallback = DEFAULT_IDLE_CLIENTS[tier] ?? {};
    if (rule === false) continue;
    if (rule !== undefined && (typeof rule !== 'object' || rule === null))
      fail(`idleClients.${tier} must be a rule object or false`);
    const pick = (field: keyof IdleClientRule): number | undefined => {
      const value = rule?.[field];
      if (value === undefined) return fallback[field];
      return checkSeconds(`idleClients.${tier}.${field}`, value);
    };
    const resolved: ResolvedIdleClientRule = {};
    const neverUsedWithin = pick('neverUsedWithin');
    const unusedFor = pick('unusedFor');
    if (neverUsedWithin !== undefined) resolved.neverUsedWithin = neverUsedWithin;
    if (unusedFor !== undefined) resolved.unusedFor = unusedFor;
    if (neverUsedWithin !== undefined || unusedFor !== undefined) idleClients[tier] = resolved;
  }
  const auditRetention = options.auditRetention ?? DEFAULT_AUDIT_RETENTION;
  if (
    typeof auditRetention !== 'number' ||
    !Number.isInteger(auditRetention) ||
    auditRetention < 0 ||
    (auditRetention > 0 && auditRetention < MINIMUM_IDLE_SECONDS)
  ) {
    fail('auditRetention must be a whole number of seconds, at least 3600 (one hour), or 0 to keep events forever');
  }
  return { idleClients, auditRetention };
}

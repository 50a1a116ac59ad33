import { RegistrationError } from '../core/errors.js';
import type { RegistrationCaps } from '../core/limit-options.js';
import type { ClientCounts, ClientStore, RegistrationVia } from '../store/types.js';

/** How long a count read from the store is used before it is read again. */
export const CAP_REFRESH_SECONDS = 5;

/**
 * Caps on stored clients, in all and per tier. Counting the store on every registration would be a
 * full count per request, so the count is read at most every CAP_REFRESH_SECONDS and this
 * process's own registrations since are added to it. Across instances the cap is therefore soft:
 * it may be overshot by what the other instances register within one refresh interval.
 */
export interface RegistrationCapGuard {
  /** Throws when a registration in this tier would go over a cap. */
  check(via: RegistrationVia): Promise<void>;
  /** A client of this tier was stored by this process. */
  registered(via: RegistrationVia): void;
}

export function createRegistrationCaps(
  caps: RegistrationCaps,
  store: ClientStore,
  now: () => number,
): RegistrationCapGuard | undefined {
  const perTier = caps.perTier ?? {};
  if (caps.total === undefined && Object.keys(perTier).length === 0) return undefined;

  let counted: ClientCounts | undefined;
  let countedAt = Number.NEGATIVE_INFINITY;
  let loading: Promise<ClientCounts> | undefined;
  // Registrations by this process since the count was read.
  let sinceTotal = 0;
  const sinceByTier: Partial<Record<RegistrationVia, number>> = {};

  async function counts(): Promise<ClientCounts> {
    if (counted !== undefined && now() - countedAt < CAP_REFRESH_SECONDS) return counted;
    // Concurrent registrations share one count.
    loading ??= store.countClients().then(
      (fresh) => {
        counted = fresh;
        countedAt = now();
        sinceTotal = 0;
        for (const tier of Object.keys(sinceByTier)) delete sinceByTier[tier as RegistrationVia];
        loading = undefined;
        return fresh;
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  }

  return {
    async check(via) {
      const tierCap = perTier[via];
      if (caps.total === undefined && tierCap === undefined) return;
      const current = await counts();
      if (caps.total !== undefined && current.total + sinceTotal >= caps.total) {
        throw capReached('The server has reached its limit of registered clients');
      }
      if (tierCap !== undefined && (current.byTier[via] ?? 0) + (sinceByTier[via] ?? 0) >= tierCap) {
        throw capReached('The server has reached its limit of clients registered this way');
      }
    },
    registered(via) {
      sinceTotal += 1;
      sinceByTier[via] = (sinceByTier[via] ?? 0) + 1;
    },
  };
}

/**
 * A cap reached is the server's condition, not the client's mistake: 503 temporarily_unavailable
 * (RFC 6749 §4.1.2.1, RFC 9110 §15.6.4). It ends when the operator raises the cap or the idle
 * reaper frees room, which no one can predict, so there is no Retry-After.
 */
function capReached(description: string): RegistrationError {
  return new RegistrationError('temporarily_unavailable', description);
}

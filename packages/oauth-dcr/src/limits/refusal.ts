import { RegistrationError } from '../core/errors.js';
import type { AuditEvent } from '../store/types.js';
import type { RateLimitRefusal } from './authentication-limits.js';
import type { Verdict } from './rate-limiter.js';

/** The key kinds a refusal names (`request.rate_limited` detail.limit, metrics' label). */
export type LimitKind =
  | 'address'
  | 'initial_access_token'
  | 'software'
  | 'document_host'
  | 'failed_auth_client'
  | 'failed_auth_address';

/**
 * A refusal by the limits: over a rate limit (429) or, with `onStoreError: 'closed'`, the counter
 * store down (503). Its own class so that the registration endpoint does not turn each one into a
 * `registration.rejected` event: under a flood that would be a flood of audit writes. The limits
 * report the first refusal per key per window (`request.rate_limited`) and store failures through
 * onError instead.
 */
export class LimitRefusalError extends RegistrationError {
  /** Which key kind refused. */
  readonly limit: LimitKind;

  constructor(limit: LimitKind, description: string, status: number, retryAfter: number) {
    // RFC 6585 §4: 429 says how long to wait in Retry-After; the body is an OAuth error as always.
    super('temporarily_unavailable', description, { status, headers: { 'Retry-After': String(retryAfter) } });
    this.limit = limit;
  }
}

const DESCRIPTIONS: Record<LimitKind, string> = {
  address: 'Too many registration requests from this address',
  initial_access_token: 'Too many registration requests with this initial access token',
  software: 'Too many registrations of this software',
  document_host: 'Too many Client ID Metadata Document fetches from this host',
  failed_auth_client: 'Too many failed authentication attempts for this client',
  failed_auth_address: 'Too many failed authentication attempts from this address',
};

/** Seconds a client is asked to wait while the counter store is down and the limits fail closed. */
const STORE_DOWN_RETRY_SECONDS = 5;

/** Where refusals and store failures go: the endpoint's events and its onError. */
export interface RefusalReporting {
  emit: (event: Omit<AuditEvent, 'at'>) => void;
  onError: (error: unknown) => void;
  onStoreError: 'open' | 'closed';
}

/** Turns verdicts into refusals, reporting as it goes. */
export interface RefusalJudge {
  /**
   * Null when the request may go on; otherwise the refusal. A refused request emits
   * `request.rate_limited` only for the first refusal of its key in the window.
   */
  judge(
    verdict: Verdict,
    limit: LimitKind,
    endpoint: string,
    who: { address?: string; clientId?: string },
  ): RateLimitRefusal | null;
}

export function createRefusalJudge(reporting: RefusalReporting): RefusalJudge {
  // A run of store failures is reported once, when it starts; the next success ends the run.
  let storeFailing = false;

  function storeError(error: unknown, limit: LimitKind): RateLimitRefusal | null {
    if (!storeFailing) {
      storeFailing = true;
      const message = `oauth-dcr: the rate limit store failed; requests are ${reporting.onStoreError === 'open' ? 'let through uncounted' : 'refused with 503'} until it answers again`;
      try {
        reporting.onError(new Error(message, { cause: error }));
      } catch {
        // Reporting must not turn one failure into two.
      }
    }
    if (reporting.onStoreError === 'open') return null;
    const refusal = new LimitRefusalError(
      limit,
      'The server cannot check its rate limits right now; retry shortly',
      503,
      STORE_DOWN_RETRY_SECONDS,
    );
    return { limit, retryAfter: STORE_DOWN_RETRY_SECONDS, error: refusal };
  }

  return {
    judge(verdict, limit, endpoint, who) {
      if (verdict.kind === 'allowed') {
        storeFailing = false;
        return null;
      }
      if (verdict.kind === 'store_error') return storeError(verdict.error, limit);
      storeFailing = false;
      const { retryAfter } = verdict;
      if (verdict.first) {
        const event: Omit<AuditEvent, 'at'> = { type: 'request.rate_limited', detail: { limit, endpoint } };
        if (who.address !== undefined) event.ip = who.address;
        if (who.clientId !== undefined) event.clientId = who.clientId;
        reporting.emit(event);
      }
      const error = new LimitRefusalError(
        limit,
        `${DESCRIPTIONS[limit]}; retry after ${retryAfter} seconds`,
        429,
        retryAfter,
      );
      return { limit, retryAfter, error };
    },
  };
}

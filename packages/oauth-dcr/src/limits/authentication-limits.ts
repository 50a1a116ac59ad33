import type { RegistrationError } from '../core/errors.js';
import type { AuditEvent } from '../store/types.js';
import { addressKey } from './client-address.js';
import type { KeyedLimiter } from './rate-limiter.js';
import type { RefusalJudge } from './refusal.js';

/** A request refused by a rate limit: answer `error` (429, Retry-After, JSON body). */
export interface RateLimitRefusal {
  /** Which key kind refused: 'address', 'initial_access_token', 'software', 'document_host', 'failed_auth_client', 'failed_auth_address'. */
  limit: string;
  /** Seconds until the key may try again. */
  retryAfter: number;
  error: RegistrationError;
}

/**
 * Limits on failed client authentication, for the host's token, revocation and introspection
 * endpoints (the library's own RFC 7592 endpoint uses them too). Only failures are counted, so a
 * client that presents its correct credential is never slowed by someone guessing it:
 * - `checkAddress` runs before the credential is checked and refuses only an address that has
 *   spent its own failure budget. A correct credential from any other address always passes.
 * - The per-client_id count is never checked before a credential: a correct credential passes
 *   even while its client_id is over the limit (otherwise anyone could lock a client out by
 *   failing on purpose). Over it, a wrong credential is answered 429 instead of 401, and only the
 *   first of those in a window is an event. Guessing a 256-bit secret is hopeless anyway; the
 *   per-address limit is what stops a guesser before its guesses are even checked.
 */
export interface AuthenticationLimits {
  /** Before the credential is checked: a refusal when this address is over its failure budget. */
  checkAddress(address: string | undefined, endpoint: string): Promise<RateLimitRefusal | null>;
  /**
   * After a credential failed: counts it for the client_id and the address, emits
   * `client.authentication_failed`, and resolves a refusal when either is now over its limit
   * (answer 429 instead of 401).
   */
  recordFailure(input: FailedAuthentication): Promise<RateLimitRefusal | null>;
}

export interface FailedAuthentication {
  clientId?: string;
  address?: string;
  endpoint: string;
}

export interface AuthenticationLimitsSetup {
  perClient: KeyedLimiter | undefined;
  perAddress: KeyedLimiter | undefined;
  judge: RefusalJudge;
  emit: (event: Omit<AuditEvent, 'at'>) => void;
}

/** AuthenticationLimits plus the count without an event, for endpoints that report failures their own way. */
export interface AuthenticationLimiter extends AuthenticationLimits {
  countFailure(input: FailedAuthentication): Promise<RateLimitRefusal | null>;
}

export function createAuthenticationLimits(setup: AuthenticationLimitsSetup): AuthenticationLimiter {
  const { perClient, perAddress, judge } = setup;

  async function countFailure(input: FailedAuthentication): Promise<RateLimitRefusal | null> {
    const { clientId, address, endpoint } = input;
    // Both counts move on every failure, so neither key can hide behind the other's refusal.
    const [byClient, byAddress] = await Promise.all([
      perClient && clientId !== undefined ? perClient.consume(clientId) : undefined,
      perAddress && address !== undefined ? perAddress.consume(addressKey(address)) : undefined,
    ]);
    const who = { address, clientId };
    const clientRefusal = byClient && judge.judge(byClient, 'failed_auth_client', endpoint, who);
    const addressRefusal = byAddress && judge.judge(byAddress, 'failed_auth_address', endpoint, who);
    return addressRefusal ?? clientRefusal ?? null;
  }

  return {
    async checkAddress(address, endpoint) {
      if (perAddress === undefined || address === undefined) return null;
      const verdict = await perAddress.spent(addressKey(address));
      return judge.judge(verdict, 'failed_auth_address', endpoint, { address });
    },
    async recordFailure(input) {
      const refusal = await countFailure(input);
      // A failure past the limit is reported once per window as request.rate_limited instead.
      if (refusal === null) {
        const event: Omit<AuditEvent, 'at'> = {
          type: 'client.authentication_failed',
          detail: { endpoint: input.endpoint },
        };
        if (input.clientId !== undefined) event.clientId = input.clientId;
        if (input.address !== undefined) event.ip = input.address;
        setup.emit(event);
      }
      return refusal;
    },
    countFailure,
  };
}

import type { RegistrationError } from '../core/errors.js';

/*
 * The public shapes of the failed-authentication limits. Types only, so that the package's
 * declarations never reach the counters' implementation (limits/failed-authentication.ts).
 */

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

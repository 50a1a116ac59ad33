import type { RegistrationError } from '../core/errors.js';

/** A request refused by a rate limit: answer `error` (429, Retry-After, JSON body). */
export interface RateLimitRefusal {
  /** Which key kind refused: 'address', 'client', 'initial_access_token', 'software', 'document_host'. */
  limit: string;
  /** Seconds until the key may try again. */
  retryAfter: number;
  error: RegistrationError;
}

/**
 * Limits on failed client authentication, for the host's token, revocation and introspection
 * endpoints (the library's own RFC 7592 endpoint uses them too). Only failures are counted, so a
 * client that presents its correct credential is never slowed by someone guessing it.
 */
export interface AuthenticationLimits {
  /** Before the credential is checked: a refusal when this address is over its failure budget. */
  checkAddress(address: string | undefined, endpoint: string): Promise<RateLimitRefusal | null>;
  /**
   * After a credential failed: counts it for the client_id and the address, and resolves a refusal
   * when either is now over its limit (answer 429 instead of 401).
   */
  recordFailure(input: { clientId?: string; address?: string; endpoint: string }): Promise<RateLimitRefusal | null>;
}

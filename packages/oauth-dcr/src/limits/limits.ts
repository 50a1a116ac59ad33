import type { ResolvedOptions } from '../core/options.js';
import type { AuditEvent } from '../store/types.js';
import type { AuthenticationLimits, RateLimitRefusal } from './authentication-limits.js';
import { createClientAddressResolver } from './client-address.js';

/** What the limits need from the endpoint: its options, and a way to report an event. */
export interface LimitsInput {
  options: ResolvedOptions;
  emit: (event: Omit<AuditEvent, 'at'>) => void;
}

/** The abuse controls, built once where the endpoint is created (protocol/policy.ts). */
export interface Limits {
  /** The client address from the socket's peer and X-Forwarded-For (trustProxy). */
  clientAddress: (peer: string | undefined, forwardedFor: string | undefined) => string | undefined;
  /** Failed client authentication, per client_id and per address. */
  authentication: AuthenticationLimits;
  /** Before a registration's body is read: per client address, and per initial access token when one is presented. */
  registrationRequest(request: { address?: string; initialAccessTokenHash?: string }): Promise<RateLimitRefusal | null>;
  /** Once the metadata is read: per software (`software_id`, or the statement's issuer and `software_id`). */
  registrationSoftware(softwareKey: string): Promise<RateLimitRefusal | null>;
  /** Before a Client ID Metadata Document is fetched (a cache miss): per document host. */
  documentHost(host: string): Promise<RateLimitRefusal | null>;
}

/** SCAFFOLD: limits nothing yet; replaced by the rate-limit work. */
export function createLimits(input: LimitsInput): Limits {
  const none = async () => null;
  return {
    clientAddress: createClientAddressResolver(input.options.trustProxy),
    authentication: { checkAddress: none, recordFailure: none },
    registrationRequest: none,
    registrationSoftware: none,
    documentHost: none,
  };
}

import { RegistrationError } from '../core/errors.js';
import type { RequestContext } from '../core/options.js';
import type { Policy } from './policy.js';
import { hashSecret } from '../core/secrets.js';
import type { RegistrationVia } from '../store/types.js';
import { admitAttestedRegistration } from '../attestation/registration.js';

/**
 * Who may register (RFC 7591 §3: "The client registration endpoint MAY be an OAuth 2.0 protected
 * resource ... accept an initial access token"). The modes combine per deployment, first match
 * wins: an `authenticate` hook, an initial access token presented as a bearer token, a Client
 * Attestation from a trusted attester (the `attested` tier, attestation/registration.ts), a
 * verified software statement, then open registration.
 */
export interface Admission {
  via: RegistrationVia;
  /** Principal id or initial access token id. */
  by?: string;
  /** Hash of a presented initial access token; spent only once the metadata is valid. */
  initialAccessTokenHash?: string;
}

export async function admitRegistration(
  policy: Policy,
  request: RequestContext,
  bearer: string | undefined,
  statementIssuer?: string,
): Promise<Admission> {
  if (policy.authenticate) {
    const principal = await policy.authenticate(request);
    if (principal) return { via: 'authenticated', by: String(principal) };
  }
  if (bearer !== undefined) {
    return { via: 'initial_access_token', initialAccessTokenHash: hashSecret(bearer) };
  }
  // A presented attestation that fails is refused here, never read as an anonymous registration.
  if (policy.clientAttestation) {
    const attester = await admitAttestedRegistration(policy.clientAttestation, (name) => request.header(name));
    if (attester !== undefined) return { via: 'attested', by: attester };
  }
  // A verified software statement (RFC 7591 §2.3) vouches for the software on its own.
  if (statementIssuer !== undefined) return { via: 'software_statement', by: statementIssuer };
  if (policy.openRegistration) {
    // registrationAddresses: for an address the lists keep out, registration is not open, and the
    // answer is the one a closed endpoint gives (RFC 7591 §3: it may require a token).
    if (policy.limits.mayRegisterOpenly(request.remoteAddress)) return { via: 'anonymous' };
    throw new RegistrationError(
      'invalid_token',
      'An initial access token is required to register a client from this address',
    );
  }
  throw new RegistrationError('invalid_token', 'An initial access token is required to register a client');
}

/**
 * Spends one use of the presented initial access token, atomically in the store, so concurrent
 * registrations can never over-use it. Done after validation so that a rejected request does
 * not burn a use.
 */
export async function spendInitialAccessToken(policy: Policy, admission: Admission): Promise<Admission> {
  if (admission.initialAccessTokenHash === undefined) return admission;
  const token = await policy.store.consumeInitialAccessToken(admission.initialAccessTokenHash, policy.now());
  if (!token) {
    throw new RegistrationError('invalid_token', 'The initial access token is invalid, expired, revoked or used up');
  }
  return { via: 'initial_access_token', by: token.id };
}

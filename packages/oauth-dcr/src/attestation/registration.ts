import { decodeJwt } from 'jose';
import { RegistrationError, invalidMetadata } from '../core/errors.js';
import type { RegistrationOptions } from '../core/options.js';
import { checkAttestedMetadata, registrationAttesters, ATTESTED_TIER } from './trust.js';
import type { AttestationHeaders, ClientAttestationVerifier } from './verifier.js';

/**
 * Registration with a Client Attestation: a project extension, since
 * draft-ietf-oauth-attestation-based-client-auth-10 says nothing of the registration endpoint.
 * The design:
 * - The request carries the same two headers as at the token endpoint. The attestation's `sub`
 *   is the software_id the attester vouches for (no client_id exists yet); the PoP's `aud` is the
 *   issuer; its `jti` is used once, as at the token endpoint.
 * - The attester must be trusted for that software_id (`softwareIds`) or for a domain holding
 *   every redirect URI (`domains`). The client lands in the `attested` tier, held to that tier's
 *   ceilings, and its `registeredBy` is the attester's id.
 * - The client must register `token_endpoint_auth_method` `attest_jwt_client_auth`: it then gets no
 *   secret, and authenticates at the token endpoint with attestations whose `sub` is its new
 *   client_id (draft §4), from the attester that admitted it.
 */

/** The two attestation headers of a request, read by name (case-insensitive). */
export function attestationHeadersOf(header: (name: string) => string | undefined): AttestationHeaders {
  return { attestation: header('oauth-client-attestation'), pop: header('oauth-client-attestation-pop') };
}

/**
 * Admits a registration that carries an attestation: the attester's id, or undefined when the
 * request carries none. A presented attestation that fails is refused (RegistrationError), never
 * ignored for a weaker tier.
 */
export async function admitAttestedRegistration(
  verifier: ClientAttestationVerifier,
  header: (name: string) => string | undefined,
): Promise<string | undefined> {
  const headers = attestationHeadersOf(header);
  if (!verifier.isPresented(headers)) return undefined;
  const verdict = await verifier.verify(headers, { attesters: registrationAttesters(verifier.attesters) });
  if (verdict.ok) return verdict.attester.id;
  const options = {
    status: verdict.status,
    ...(verdict.challenge ? { headers: { 'OAuth-Client-Attestation-Challenge': verdict.challenge } } : {}),
  };
  // RFC 7591 §3.2.2 lets the endpoint use other codes; the draft's own (§7.4) are not registration codes.
  const code = verdict.error === 'invalid_client' ? 'invalid_client' : 'invalid_request';
  const description = verdict.error === code ? verdict.description : `${verdict.error}: ${verdict.description}`;
  throw new RegistrationError(code, description, options);
}

/**
 * The metadata rule of the `attested` tier, run before the host's own `validateMetadata` hook:
 * the method is attest_jwt_client_auth, and the metadata is what the attester vouched for. At
 * registration (POST) the software_id must be the attestation's `sub` (verified by the admission
 * of this same request); on an RFC 7592 update the attester's configuration alone decides.
 */
export function withAttestedMetadataRule(
  verifier: ClientAttestationVerifier,
  hook: RegistrationOptions['validateMetadata'],
): NonNullable<RegistrationOptions['validateMetadata']> {
  return async (metadata, ctx) => {
    if (ctx.registeredVia === ATTESTED_TIER) {
      if (metadata.token_endpoint_auth_method !== 'attest_jwt_client_auth') {
        throw invalidMetadata(
          'A client admitted by an attestation must use token_endpoint_auth_method attest_jwt_client_auth',
        );
      }
      const attester = verifier.attesters.find((candidate) => candidate.id === ctx.registeredBy);
      if (!attester) {
        throw invalidMetadata(`No trusted attester named ${ctx.registeredBy ?? '(none)'} vouches for this client`);
      }
      const attestation = ctx.method === 'POST' ? ctx.header('oauth-client-attestation') : undefined;
      const subject = attestation === undefined ? undefined : String(decodeJwt(attestation).sub);
      const refusal = checkAttestedMetadata(attester, metadata, subject);
      if (refusal !== undefined) throw invalidMetadata(refusal);
    }
    return hook ? hook(metadata, ctx) : undefined;
  };
}

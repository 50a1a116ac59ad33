import type { Policy } from './policy.js';
import { CLIENT_ASSERTION_ALGORITHMS } from '../metadata/client-keys.js';
import { ATTESTATION_ALGORITHMS } from '../attestation/attestation-jwt.js';

/**
 * The RFC 8414 §2 members that describe registration, derived from the live policy: merge them into
 * the authorization server's metadata document so that clients find the endpoint and what it accepts.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 */
export interface RegistrationServerMetadata {
  /** The registration endpoint's absolute URL; present only when the `issuer` option is set. */
  registration_endpoint?: string;
  /** The `tokenEndpointAuthMethods` clients may register. */
  token_endpoint_auth_methods_supported: string[];
  /** Every grant type some tier may register. */
  grant_types_supported: string[];
  /** The response types those grants use (`code`, and `token` when implicit is allowed). */
  response_types_supported: string[];
  /** Always `['S256']`: PKCE without `plain` (RFC 9700 §2.1.1). */
  code_challenge_methods_supported: string[];
  /** The `scopesSupported` option, when set. */
  scopes_supported?: string[];
  /**
   * The asymmetric algorithms accepted for `private_key_jwt` assertions; present exactly when
   * private_key_jwt is (RFC 8414 §2 MUST).
   */
  token_endpoint_auth_signing_alg_values_supported?: string[];
  /**
   * `true` while Client ID Metadata Documents are on; absent otherwise, never `false`
   * (draft-ietf-oauth-client-id-metadata-document-01 §5).
   */
  client_id_metadata_document_supported?: true;
  /**
   * The algorithms accepted for Client Attestation JWTs; present exactly when
   * attest_jwt_client_auth is (draft-ietf-oauth-attestation-based-client-auth-10 §8 MUST).
   */
  client_attestation_signing_alg_values_supported?: string[];
  /** The algorithms accepted for Client Attestation PoP JWTs; with the previous one (draft §8). */
  client_attestation_pop_signing_alg_values_supported?: string[];
  /** The attestation challenge endpoint, exactly when challenges are on (draft §6.1, §8). */
  challenge_endpoint?: string;
}

export function registrationServerMetadata(policy: Policy): RegistrationServerMetadata {
  // The union over tiers: a grant any tier may register is one the server supports.
  const grants = new Set<string>();
  for (const tier of Object.values(policy.tiers)) for (const g of tier.allowedGrantTypes) grants.add(g);
  const responseTypes: string[] = [];
  if (grants.has('authorization_code')) responseTypes.push('code');
  if (grants.has('implicit')) responseTypes.push('token');
  const authMethods = [...policy.tokenEndpointAuthMethods];
  // Document clients are public (`none`) unless they sign; Claude uses a document only when it
  // sees both the flag and `none` here.
  if (policy.clientDocuments && !authMethods.includes('none')) authMethods.unshift('none');
  const metadata: RegistrationServerMetadata = {
    token_endpoint_auth_methods_supported: authMethods,
    grant_types_supported: [...grants],
    response_types_supported: responseTypes,
    // RFC 9700 §2.1.1: only S256; `plain` offers no protection if the request leaks.
    code_challenge_methods_supported: ['S256'],
  };
  if (policy.issuer) {
    metadata.registration_endpoint = `${policy.issuer}${policy.registrationPath === '/' ? '' : policy.registrationPath}`;
  }
  if (policy.scopesSupported) metadata.scopes_supported = [...policy.scopesSupported];
  // RFC 8414 §2: MUST be present when private_key_jwt is listed.
  if (authMethods.includes('private_key_jwt')) {
    metadata.token_endpoint_auth_signing_alg_values_supported = [...CLIENT_ASSERTION_ALGORITHMS];
  }
  // Attestation draft §8: the algorithm lists when the PoP-JWT mode is offered, and the challenge
  // endpoint when there is one. Nothing is listed that is not accepted.
  if (policy.clientAttestation) {
    const algorithms = new Set<string>();
    for (const attester of policy.clientAttestation.attesters) {
      for (const alg of attester.algorithms ?? ATTESTATION_ALGORITHMS) algorithms.add(alg);
    }
    metadata.client_attestation_signing_alg_values_supported = ATTESTATION_ALGORITHMS.filter((alg) =>
      algorithms.has(alg),
    );
    metadata.client_attestation_pop_signing_alg_values_supported = [...ATTESTATION_ALGORITHMS];
    if (policy.clientAttestation.challengeEndpoint) {
      metadata.challenge_endpoint = policy.clientAttestation.challengeEndpoint;
    }
  }
  // CIMD §5: only while the feature is on.
  if (policy.clientDocuments) metadata.client_id_metadata_document_supported = true;
  return metadata;
}

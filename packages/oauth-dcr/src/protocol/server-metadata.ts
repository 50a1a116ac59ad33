import type { Policy } from './policy.js';

/** The RFC 8414 §2 members that describe registration, derived from the live policy. */
export interface RegistrationServerMetadata {
  registration_endpoint?: string;
  token_endpoint_auth_methods_supported: string[];
  grant_types_supported: string[];
  response_types_supported: string[];
  code_challenge_methods_supported: string[];
  scopes_supported?: string[];
}

export function registrationServerMetadata(policy: Policy): RegistrationServerMetadata {
  // The union over tiers: a grant any tier may register is one the server supports.
  const grants = new Set<string>();
  for (const tier of Object.values(policy.tiers)) for (const g of tier.allowedGrantTypes) grants.add(g);
  const responseTypes: string[] = [];
  if (grants.has('authorization_code')) responseTypes.push('code');
  if (grants.has('implicit')) responseTypes.push('token');
  const metadata: RegistrationServerMetadata = {
    token_endpoint_auth_methods_supported: [...policy.tokenEndpointAuthMethods],
    grant_types_supported: [...grants],
    response_types_supported: responseTypes,
    // RFC 9700 §2.1.1: only S256; `plain` offers no protection if the request leaks.
    code_challenge_methods_supported: ['S256'],
  };
  if (policy.issuer) {
    metadata.registration_endpoint = `${policy.issuer}${policy.registrationPath === '/' ? '' : policy.registrationPath}`;
  }
  if (policy.scopesSupported) metadata.scopes_supported = [...policy.scopesSupported];
  return metadata;
}

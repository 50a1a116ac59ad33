import type { RegistrationVia } from 'oauth-dcr';

/** What the pages show about a client. Everything here came from the client itself, so it is escaped. */
export interface ClientView {
  id: string;
  name?: string;
  registeredVia: RegistrationVia;
  /**
   * Every redirect URI the client registered or its metadata document lists: the consent page
   * warns when all of them are on this device (MCP security considerations, CIMD §6.4).
   */
  redirectUris?: readonly string[];
}

/** The view of a client as the library's oauth2-server adapter hands it over. */
export function clientViewOf(client: {
  id: string;
  name?: string;
  registeredVia: RegistrationVia;
  redirectUris?: readonly string[];
}): ClientView {
  return {
    id: client.id,
    registeredVia: client.registeredVia,
    ...(client.name ? { name: client.name } : {}),
    ...(client.redirectUris ? { redirectUris: [...client.redirectUris] } : {}),
  };
}

export interface TrustTier {
  label: string;
  /** False when nobody vouched for the client's name: the pages then warn the user. */
  verified: boolean;
  explanation: string;
}

/** The trust tier recorded at registration (src/store/types.ts RegistrationVia), in words. */
export function describeTrustTier(via: RegistrationVia): TrustTier {
  switch (via) {
    case 'anonymous':
      return {
        label: 'Self-registered · unverified',
        verified: false,
        explanation: 'This application registered itself with this server. Nobody has checked its name or who runs it.',
      };
    case 'initial_access_token':
      return {
        label: 'Registered with an access token',
        verified: true,
        explanation: 'An administrator issued the token this application registered with.',
      };
    case 'authenticated':
      return {
        label: 'Registered by a signed-in account',
        verified: true,
        explanation: 'A known account registered this application.',
      };
    case 'software_statement':
      return {
        label: 'Verified software statement',
        verified: true,
        explanation: "A trusted publisher signed this application's details.",
      };
    // CIMD §6.4: a document proves which website publishes it, not who runs that website or
    // whether the name in it is true; so "identified", never "verified".
    case 'metadata_document':
      return {
        label: 'Identified by its website',
        verified: false,
        explanation:
          'This application describes itself in a document on its website. That shows where it is published, not who runs it; its name is not checked.',
      };
    // An attester the operator trusts (the vendor's backend) vouched that this instance runs its
    // genuine software; the registration itself came from that instance.
    case 'attested':
      return {
        label: 'Attested by a trusted publisher',
        verified: true,
        explanation: 'A publisher this server trusts attested that this is a genuine copy of its application.',
      };
    case 'admin':
      return {
        label: 'Registered by an administrator',
        verified: true,
        explanation: 'An administrator of this server registered this application.',
      };
  }
}

/** RFC 8252 §7.3 loopback hosts (as WHATWG URL writes them): only a program on this device listens there. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Where the browser goes after the decision, said so that a user can judge it (RFC 6819 §4.4.1.4). */
export function describeRedirectTarget(redirectUri: string): string {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return redirectUri;
  }
  if (url.protocol === 'https:') return url.host;
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return `an app on this device (${url.host})`;
    return `${url.host} (not encrypted)`;
  }
  return `the app that opens ${url.protocol} links`;
}

/**
 * Whether every redirect URI goes back to this device. Anyone can publish a document naming
 * localhost redirects, and any program on the device can listen there, so such a client can be
 * impersonated by local software: MCP asks authorization servers to warn.
 */
export function redirectsOnlyToThisDevice(redirectUris: readonly string[]): boolean {
  return (
    redirectUris.length > 0 &&
    redirectUris.every((uri) => {
      try {
        const url = new URL(uri);
        return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname);
      } catch {
        return false;
      }
    })
  );
}

import type { RegistrationVia } from 'oauth-dcr';

/** What the pages show about a client. Everything here came from the client itself, so it is escaped. */
export interface ClientView {
  id: string;
  name?: string;
  registeredVia: RegistrationVia;
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
    case 'metadata_document':
      return {
        label: 'Identified by its web address',
        verified: false,
        explanation:
          'This application is identified by a metadata document on its own website; its name is not checked.',
      };
    case 'admin':
      return {
        label: 'Registered by an administrator',
        verified: true,
        explanation: 'An administrator of this server registered this application.',
      };
  }
}

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
    if (['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) return `an app on this device (${url.host})`;
    return `${url.host} (not encrypted)`;
  }
  return `the app that opens ${url.protocol} links`;
}

export function displayName(client: ClientView): string {
  return client.name && client.name.trim().length > 0 ? client.name : 'An unnamed application';
}

import type { ClientMetadata } from '../core/client-metadata.js';
import type { ClientRecord } from '../store/types.js';
import type { TrustedAttester } from '../core/attestation-options.js';

/**
 * Which attesters may vouch for whom (draft-ietf-oauth-attestation-based-client-auth-10 §9.8:
 * trust in attesters is configuration). An attestation is only accepted from an attester trusted
 * for the client it names.
 */

/** The registration tier of clients an attester admitted at /register (a project extension). */
export const ATTESTED_TIER = 'attested';

/** Whether `host` is `domain` or one of its subdomains (case-insensitive, DNS names). */
function hostWithin(host: string, domains: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return domains.some((domain) => {
    const d = domain.toLowerCase().replace(/^\.+|\.$/g, '');
    return name === d || name.endsWith(`.${d}`);
  });
}

/**
 * Whether every redirect_uri, and the client_uri, of `metadata` is an https or http URL whose host
 * lies in `domains`. A private-use scheme (a native app's) names no host, so it never qualifies:
 * a domain attester vouches for web origins.
 */
export function metadataWithinDomains(metadata: Readonly<ClientMetadata>, domains: readonly string[]): boolean {
  if (domains.length === 0) return false;
  const uris: unknown[] = Array.isArray(metadata.redirect_uris) ? [...metadata.redirect_uris] : [];
  if (metadata.client_uri !== undefined) uris.push(metadata.client_uri);
  if (uris.length === 0) return false;
  return uris.every((uri) => {
    if (typeof uri !== 'string') return false;
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return false;
    }
    return (url.protocol === 'https:' || url.protocol === 'http:') && hostWithin(url.hostname, domains);
  });
}

/**
 * The attesters that may vouch for `client` at the token endpoint: the one that admitted it (tier
 * `attested`), one that lists its client_id or its software_id, or one whose domains hold all its
 * redirect URIs.
 */
export function attestersForClient(attesters: readonly TrustedAttester[], client: ClientRecord): TrustedAttester[] {
  const softwareId = client.metadata.software_id;
  return attesters.filter(
    (attester) =>
      ((client.registeredVia as string) === ATTESTED_TIER && client.registeredBy === attester.id) ||
      attester.clientIds?.includes(client.clientId) === true ||
      (typeof softwareId === 'string' && attester.softwareIds?.includes(softwareId) === true) ||
      (attester.domains !== undefined && metadataWithinDomains(client.metadata, attester.domains)),
  );
}

/**
 * The attesters that may admit a registration: those that vouch for a software_id or a domain. At
 * /register the attestation's `sub` is the software_id it vouches for; which metadata it then
 * admits is `checkAttestedMetadata`'s rule.
 */
export function registrationAttesters(attesters: readonly TrustedAttester[]): TrustedAttester[] {
  return attesters.filter((attester) => (attester.softwareIds?.length ?? 0) > 0 || (attester.domains?.length ?? 0) > 0);
}

/**
 * Why `metadata` is not what `attester` vouched for, or undefined when it is: the software_id is
 * the attested `sub` (when known: at registration) and one the attester lists, or, for a domain
 * attester, every redirect URI lies in its domains.
 */
export function checkAttestedMetadata(
  attester: TrustedAttester,
  metadata: Readonly<ClientMetadata>,
  attestedSoftwareId: string | undefined,
): string | undefined {
  const softwareId = metadata.software_id;
  if (attestedSoftwareId !== undefined && softwareId !== attestedSoftwareId) {
    return `software_id must be ${attestedSoftwareId}, the software the attestation vouches for`;
  }
  if (typeof softwareId === 'string' && attester.softwareIds?.includes(softwareId)) return undefined;
  if (attester.domains !== undefined && metadataWithinDomains(metadata, attester.domains)) return undefined;
  return `The attester ${attester.id} does not vouch for this software_id or these redirect URIs`;
}

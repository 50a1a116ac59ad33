/**
 * How the reference server reaches out to the network on a client's behalf: Client ID Metadata
 * Documents (an https client_id) and the outbound fetch allow list for local development.
 *
 * Every fetch goes through the library's safe-fetch, which refuses private, loopback and
 * link-local addresses (SSRF). DCR_FETCH_ALLOW lifts that block for the hosts, addresses or CIDRs
 * it lists, so that a document served from https://localhost can be used in development and tests.
 * It is off by default, and the start banner warns while it is set (fetchWarnings). Extra CAs are
 * trusted through Node's own NODE_EXTRA_CA_CERTS: safe-fetch keeps the default trust store, so
 * nothing here touches certificates.
 */
import { isIP } from 'node:net';
import type { RegistrationOptions } from 'oauth-dcr';
import { ConfigError, type ServerConfig } from './config.js';

/** The registration options this module decides; spread them into createRegistration. */
export type RegistrationFetchOptions = Pick<RegistrationOptions, 'clientIdMetadataDocuments' | 'outboundFetch'>;

/**
 * Options for createRegistration: Client ID Metadata Documents as DCR_CIMD says, and the
 * outbound fetch allow list from DCR_FETCH_ALLOW. Throws a ConfigError naming DCR_FETCH_ALLOW for
 * an entry that is neither an IP address, a CIDR nor a host name, so a typo stops the server at
 * start instead of failing every fetch later.
 */
export function registrationFetchOptions(config: ServerConfig): RegistrationFetchOptions {
  const allowAddresses = config.fetchAllow.map(fetchAllowEntry);
  return {
    // Issue 9: MCP clients now prefer to identify themselves by a metadata document, so the
    // reference server resolves them by default (the library's default is off); DCR_CIMD=false
    // turns it off, and the metadata then omits client_id_metadata_document_supported (CIMD §5).
    clientIdMetadataDocuments: { enabled: config.cimd.enabled },
    ...(allowAddresses.length > 0 ? { outboundFetch: { allowAddresses } } : {}),
  };
}

/** Lines the start banner prints while outbound fetches are loosened. */
export function fetchWarnings(config: ServerConfig): string[] {
  if (config.fetchAllow.length === 0) return [];
  return [
    `DCR_FETCH_ALLOW is set: outbound fetches (Client ID Metadata Documents, JWKS) may reach ${config.fetchAllow.join(', ')} despite the private-range block. For local development and tests only.`,
  ];
}

/** Letters, digits and hyphens in dot-separated labels (RFC 1123 §2.1), optionally fully qualified. */
const HOST_NAME =
  /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** One DCR_FETCH_ALLOW entry as safe-fetch's allow list takes it: `[::1]` is written `::1` there. */
function fetchAllowEntry(entry: string): string {
  const [network = '', prefix, ...rest] = entry.split('/');
  const address = network.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(address);
  if (family !== 0) {
    const maxPrefix = family === 4 ? 32 : 128;
    const bits = prefix === undefined ? maxPrefix : Number(prefix);
    if (rest.length === 0 && (prefix === undefined || /^\d+$/.test(prefix)) && bits >= 0 && bits <= maxPrefix) {
      return prefix === undefined ? address : `${address}/${bits}`;
    }
  } else if (prefix === undefined && HOST_NAME.test(entry)) {
    return entry.toLowerCase();
  }
  throw new ConfigError(`DCR_FETCH_ALLOW: "${entry}" is not an IP address, CIDR or host name`);
}

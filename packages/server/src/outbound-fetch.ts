/**
 * How the reference server reaches out to the network on a client's behalf: Client ID Metadata
 * Documents (an https client_id) and the outbound fetch allow list for local development.
 *
 * Every fetch goes through the library's safe-fetch, which refuses private, loopback and
 * link-local addresses (SSRF). DCR_FETCH_ALLOW lifts that block for the hosts, addresses or CIDRs
 * it lists, so that a document served from https://localhost can be used in development and tests.
 * It is off by default, and the start banner warns while it is set (fetchWarnings).
 */
import { isIP } from 'node:net';
import type { RegistrationOptions } from 'oauth-dcr';
import type { ServerConfig } from './config.js';

/** The registration options this module decides; spread them into createRegistration. */
export type RegistrationFetchOptions = Pick<RegistrationOptions, 'outboundFetch'>;

/**
 * RFC 6761 §6.3: `localhost` names the loopback interface. Until the library's allow list takes
 * host names, the name is allowed through the addresses it always means.
 */
const LOCALHOST_ADDRESSES = ['127.0.0.0/8', '::1'];

export function registrationFetchOptions(config: ServerConfig): RegistrationFetchOptions {
  const allowAddresses = fetchAllowAddresses(config.fetchAllow);
  // Without DCR_FETCH_ALLOW nothing is loosened, and Node's NODE_EXTRA_CA_CERTS stays the only way
  // to trust another CA (safe-fetch keeps the default trust store unless told otherwise).
  return allowAddresses.length > 0 ? { outboundFetch: { allowAddresses } } : {};
}

/** Lines the start banner prints while outbound fetches are loosened. */
export function fetchWarnings(config: ServerConfig): string[] {
  if (config.fetchAllow.length === 0) return [];
  return [
    `DCR_FETCH_ALLOW is set: outbound fetches (Client ID Metadata Documents, JWKS) may reach ${config.fetchAllow.join(', ')} despite the private-range block. For local development and tests only.`,
  ];
}

function fetchAllowAddresses(entries: readonly string[]): string[] {
  const addresses: string[] = [];
  for (const entry of entries) {
    const [network = ''] = entry.split('/');
    const bare = network.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare) !== 0) addresses.push(entry.startsWith('[') ? entry.replace(/^\[(.*)\]/, '$1') : entry);
    else if (bare.toLowerCase() === 'localhost') addresses.push(...LOCALHOST_ADDRESSES);
  }
  return [...new Set(addresses)];
}

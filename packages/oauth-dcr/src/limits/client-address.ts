import { isIP, type BlockList } from 'node:net';
import { parseAllowList } from '../net/address-policy.js';

/** Resolves the client address of one request from its socket peer and X-Forwarded-For. */
export type ClientAddressResolver = (peer: string | undefined, forwardedFor: string | undefined) => string | undefined;

/**
 * The client address: the socket's peer, or, when the peer is a trusted proxy (the trustProxy
 * option), the first untrusted address in X-Forwarded-For read from the right. Each proxy appends
 * the address it saw to the right of the header (the de-facto rule RFC 7239 §5.2 writes down for
 * `Forwarded: for=`), so entries to the right of the first untrusted one were written by our own
 * proxies and the ones to its left by whoever sent the request, who may have made them up. A peer
 * that is not trusted is the client, whatever its header says.
 *
 * This is the one place the rule is applied; adapters hand over the peer and the header as they
 * got them, and hosts call `Registration.clientAddress` for their own endpoints.
 */
export function createClientAddressResolver(trustProxy: readonly string[]): ClientAddressResolver {
  const trusted = trustProxy.length > 0 ? parseTrustList(trustProxy) : undefined;
  if (trusted === undefined) return (peer) => (peer === undefined ? undefined : plainAddress(peer));
  return (peer, forwardedFor) => {
    if (peer === undefined) return undefined;
    const client = plainAddress(peer);
    if (forwardedFor === undefined || !isTrusted(trusted, client)) return client;
    let nearest = client;
    const hops = forwardedFor.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hopAddress((hops[i] as string).trim());
      // A hop no proxy of ours would write: trust ends at the last one that made sense.
      if (hop === undefined) return nearest;
      if (!isTrusted(trusted, hop)) return hop;
      nearest = hop;
    }
    // Every hop was one of our proxies: the leftmost is as far as we can see.
    return nearest;
  };
}

function parseTrustList(entries: readonly string[]): BlockList {
  try {
    return parseAllowList(entries);
  } catch (error) {
    throw new TypeError(`oauth-dcr: trustProxy: ${(error as Error).message.replace(/^allowAddresses: /, '')}`);
  }
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * An IPv4-mapped IPv6 peer (`::ffff:203.0.113.7`, what a dual-stack socket reports for an IPv4
 * client) is that IPv4 address: one client, one key, one entry in the audit trail.
 */
export function plainAddress(address: string): string {
  if (address.length > 7 && address.charCodeAt(0) === 58 /* : */ && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) {
    return address.slice(7);
  }
  return address;
}

/**
 * One X-Forwarded-For entry as an address: a bare IP, `[v6]` or `[v6]:port`, or `v4:port` (some
 * proxies append the port). Anything else is undefined.
 */
function hopAddress(hop: string): string | undefined {
  let text = hop;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return undefined;
    text = text.slice(1, end);
  } else if (text.indexOf(':') > 0 && text.indexOf(':') === text.lastIndexOf(':')) {
    text = text.slice(0, text.indexOf(':'));
  }
  return isIP(text) === 0 ? undefined : plainAddress(text);
}

/**
 * The key a per-address limit counts under: an IPv4 address as it is, an IPv6 address by its /64,
 * the smallest block a single subscriber is normally given (RFC 6177 §2): one host can take any
 * address of its /64, so counting per address would count nothing.
 */
export function addressKey(address: string): string {
  if (address.indexOf(':') < 0) return address;
  const words = expandIPv6(address);
  return words === undefined ? address : `${words.slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] | undefined {
  const zone = address.indexOf('%');
  const ip = zone < 0 ? address : address.slice(0, zone);
  if (isIP(ip) !== 6) return undefined;
  const [head = '', tail] = ip.split('::');
  const first = head === '' ? [] : head.split(':');
  const last = tail === undefined || tail === '' ? [] : tail.split(':');
  // A trailing dotted quad (::ffff:0:1.2.3.4) fills two words.
  const missing = 8 - first.length - last.length - (ip.includes('.') ? 1 : 0);
  const words = [...first, ...new Array<string>(Math.max(missing, 0)).fill('0'), ...last];
  return words.map((word) => (word.includes('.') ? word : Number.parseInt(word, 16).toString(16)));
}

/**
 * Which IP addresses a fetch made on a client's behalf may reach.
 *
 * A registering client chooses the URLs we fetch (jwks_uri, sector_identifier_uri, Client ID
 * Metadata Documents), so without this list it could make the server read its own loopback
 * services, cloud metadata (169.254.169.254) or the private network (SSRF). Only globally
 * routable unicast addresses pass.
 */
import { BlockList, isIP } from 'node:net';

/** [network, prefix length, why it is refused]. The reasons document the table; they are not shown. */
const BLOCKED_IPV4: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, '"this network", incl. unspecified 0.0.0.0 (RFC 1122 §3.2.1.3)'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT shared space (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback (RFC 1122)'],
  ['169.254.0.0', 16, 'link-local, incl. cloud metadata endpoints (RFC 3927)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0', 24, 'documentation TEST-NET-1 (RFC 5737)'],
  ['192.88.99.0', 24, 'deprecated 6to4 relay anycast (RFC 7526)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (RFC 2544)'],
  ['198.51.100.0', 24, 'documentation TEST-NET-2 (RFC 5737)'],
  ['203.0.113.0', 24, 'documentation TEST-NET-3 (RFC 5737)'],
  ['224.0.0.0', 4, 'multicast (RFC 5771)'],
  ['240.0.0.0', 4, 'reserved, incl. broadcast 255.255.255.255 (RFC 1112, RFC 919)'],
];

const BLOCKED_IPV6: ReadonlyArray<readonly [string, number, string]> = [
  ['::', 96, 'unspecified ::, loopback ::1 and deprecated IPv4-compatible (RFC 4291 §2.5.5.1)'],
  // Not ::ffff:0:0/96 written short (that is IPv4-mapped, judged by its IPv4 address below) but
  // ::ffff:0:a.b.c.d, one word further left. Never routed on the Internet: a stateless translator
  // on the path (RFC 7915) could turn it into any IPv4 address, private ones included, so the
  // whole range is refused whatever IPv4 address it carries.
  ['::ffff:0:0:0', 96, 'IPv4-translated (RFC 2765 §2.1, SIIT; RFC 7915)'],
  ['64:ff9b:1::', 48, 'local-use NAT64 (RFC 8215)'],
  ['100::', 64, 'discard-only (RFC 6666)'],
  ['2001::', 23, 'IETF protocol assignments, incl. Teredo 2001::/32 (RFC 6890)'],
  ['2001:db8::', 32, 'documentation (RFC 3849)'],
  ['3fff::', 20, 'documentation (RFC 9637)'],
  ['5f00::', 16, 'SRv6 segment identifiers, not globally reachable (RFC 9602)'],
  ['fc00::', 7, 'unique local (RFC 4193)'],
  ['fe80::', 10, 'link-local (RFC 4291)'],
  ['fec0::', 10, 'deprecated site-local (RFC 3879)'],
  ['ff00::', 8, 'multicast (RFC 4291)'],
];

const BLOCKED = new BlockList();
for (const [network, prefix] of BLOCKED_IPV4) BLOCKED.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of BLOCKED_IPV6) BLOCKED.addSubnet(network, prefix, 'ipv6');

/**
 * Whether `address` must not be connected to. Anything that is not an IP address is blocked.
 * `allowed` (from {@link parseAllowList}) is the explicit, test-only escape hatch.
 *
 * IPv6 forms that carry an IPv4 address are judged by that IPv4 address too: IPv4-mapped
 * (::ffff:127.0.0.1 reaches 127.0.0.1 on a dual-stack socket), NAT64 64:ff9b::/96 (RFC 6052) and
 * 6to4 2002::/16 (RFC 3056).
 */
export function isBlockedAddress(address: string, allowed?: BlockList): boolean {
  const ip = withoutZone(address);
  const family = isIP(ip);
  if (family === 0) return true;
  if (allowed?.check(ip, family === 4 ? 'ipv4' : 'ipv6')) return false;
  if (family === 4) return BLOCKED.check(ip, 'ipv4');

  const words = ipv6Words(ip);
  const mapped = mappedIPv4(words);
  if (mapped !== undefined) return isBlockedAddress(mapped, allowed);
  const embedded = embeddedIPv4(words);
  if (embedded !== undefined && isBlockedAddress(embedded, allowed)) return true;
  return BLOCKED.check(ip, 'ipv6');
}

/**
 * The address to hand to the socket: an IPv4-mapped IPv6 address is connected to as the IPv4
 * address it was judged as, so what was checked is exactly what is dialled.
 */
export function connectableAddress(address: string): { address: string; family: 4 | 6 } {
  const ip = withoutZone(address);
  if (isIP(ip) === 4) return { address: ip, family: 4 };
  const mapped = mappedIPv4(ipv6Words(ip));
  return mapped === undefined ? { address: ip, family: 6 } : { address: mapped, family: 4 };
}

/**
 * Builds the allow list from IPs and CIDRs ("127.0.0.1", "::1", "[::1]", "10.0.0.0/8").
 * A malformed entry is a configuration mistake, so it throws a TypeError at once.
 */
export function parseAllowList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [written = '', prefixText, ...rest] = entry.trim().split('/');
    const network = written.replace(/^\[(.*)\]$/, '$1');
    const family = isIP(network);
    const maxPrefix = family === 4 ? 32 : 128;
    // Digits only: Number('') is 0, so "10.0.0.0/" would otherwise open every address (/0),
    // and Number also takes ' 8', '1e1' and '0x8'.
    const prefix =
      prefixText === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (family === 0 || rest.length > 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) {
      throw new TypeError(`allowAddresses: "${entry}" is not an IP address or CIDR`);
    }
    list.addSubnet(network, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/**
 * The development allow list of safe-fetch: addresses and CIDRs, plus host names. A name lets
 * through whatever that name resolves to, for fetches of that name only: `localhost` allows
 * https://localhost/... to reach 127.0.0.1 while https://evil.example resolving to 127.0.0.1 is
 * still refused.
 */
export interface FetchAllowList {
  /** The IP and CIDR entries; undefined when there are none. */
  addresses: BlockList | undefined;
  /** The host name entries, lower case, without a trailing dot. */
  hostnames: ReadonlySet<string>;
}

/** RFC 1123 §2.1 host names: dot-separated labels of letters, digits and hyphens. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Splits entries into addresses/CIDRs and host names; an entry that is neither throws a TypeError
 * naming it (a typo must not silently allow nothing, or the wrong thing).
 */
export function parseFetchAllowList(entries: readonly string[]): FetchAllowList {
  const addresses: string[] = [];
  const hostnames = new Set<string>();
  for (const entry of entries) {
    const trimmed = entry.trim();
    const network = (trimmed.split('/')[0] ?? '').replace(/^\[(.*)\]$/, '$1');
    if (isIP(network) !== 0) {
      addresses.push(trimmed);
      continue;
    }
    const name = trimmed.toLowerCase().replace(/\.$/, '');
    if (!HOST_NAME.test(name)) {
      throw new TypeError(`allowAddresses: "${entry}" is not an IP address, CIDR or host name`);
    }
    hostnames.add(name);
  }
  return { addresses: addresses.length > 0 ? parseAllowList(addresses) : undefined, hostnames };
}

/** Link-local results can carry a scope ("fe80::1%eth0"); the scope does not change the verdict. */
function withoutZone(address: string): string {
  const percent = address.indexOf('%');
  return percent === -1 ? address : address.slice(0, percent);
}

/** The eight 16-bit words of a valid IPv6 address (including a trailing dotted-quad form). */
function ipv6Words(ip: string): number[] {
  let text = ip;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const first = parse(head);
  const last = tail === undefined ? [] : parse(tail);
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}

function toIPv4(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** ::ffff:a.b.c.d (RFC 4291 §2.5.5.2). */
function mappedIPv4(w: number[]): string | undefined {
  const isMapped = w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff;
  return isMapped ? toIPv4(w[6] ?? 0, w[7] ?? 0) : undefined;
}

/** NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 §2.1) and 6to4 2002:V4ADDR::/48 (RFC 3056 §2). */
function embeddedIPv4(w: number[]): string | undefined {
  if (w[0] === 0x64 && w[1] === 0xff9b && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0) {
    return toIPv4(w[6] ?? 0, w[7] ?? 0);
  }
  if (w[0] === 0x2002) return toIPv4(w[1] ?? 0, w[2] ?? 0);
  return undefined;
}

/**
 * The address ranges a fetch on a client's behalf must never reach, written out here from the
 * RFCs and the IANA special-purpose address registries (RFC 6890), independently of
 * src/net/address-policy.ts: a test that read the source's own table would agree with any typo in it.
 * Plus arithmetic on addresses, so every range can be probed at both edges and just outside them.
 */

/** [network, prefix length, source]. Every address inside must be refused. */
export const IPV4_RANGES: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'RFC 1122 §3.2.1.3 "this network"'],
  ['10.0.0.0', 8, 'RFC 1918 private'],
  ['100.64.0.0', 10, 'RFC 6598 shared address space'],
  ['127.0.0.0', 8, 'RFC 1122 §3.2.1.3 loopback'],
  ['169.254.0.0', 16, 'RFC 3927 link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'RFC 1918 private'],
  ['192.0.0.0', 24, 'RFC 6890 §2.2.2 IETF protocol assignments'],
  ['192.0.2.0', 24, 'RFC 5737 TEST-NET-1'],
  ['192.88.99.0', 24, 'RFC 7526 deprecated 6to4 relay anycast'],
  ['192.168.0.0', 16, 'RFC 1918 private'],
  ['198.18.0.0', 15, 'RFC 2544 benchmarking'],
  ['198.51.100.0', 24, 'RFC 5737 TEST-NET-2'],
  ['203.0.113.0', 24, 'RFC 5737 TEST-NET-3'],
  ['224.0.0.0', 4, 'RFC 5771 multicast'],
  ['240.0.0.0', 4, 'RFC 1112 §4 reserved, and 255.255.255.255 broadcast (RFC 919)'],
];

/** IPv6 ranges refused whatever they carry. */
export const IPV6_RANGES: ReadonlyArray<readonly [string, number, string]> = [
  ['::', 96, 'RFC 4291 §2.5.2-§2.5.5.1 unspecified, loopback, IPv4-compatible (deprecated)'],
  ['::ffff:0:0:0', 96, 'RFC 2765 §2.1 IPv4-translated (SIIT)'],
  ['64:ff9b:1::', 48, 'RFC 8215 local-use IPv4/IPv6 translation'],
  ['100::', 64, 'RFC 6666 discard-only'],
  ['2001::', 23, 'RFC 6890 §2.2.3 IETF protocol assignments (incl. Teredo 2001::/32, RFC 4380)'],
  ['2001:db8::', 32, 'RFC 3849 documentation'],
  ['3fff::', 20, 'RFC 9637 documentation'],
  ['5f00::', 16, 'RFC 9602 SRv6 segment identifiers (not globally reachable)'],
  ['fc00::', 7, 'RFC 4193 unique local'],
  ['fe80::', 10, 'RFC 4291 §2.5.6 link-local'],
  ['fec0::', 10, 'RFC 3879 deprecated site-local'],
  ['ff00::', 8, 'RFC 4291 §2.7 multicast'],
];

const IPV4_SIZE = 2 ** 32;

export function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

export function numberToIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** First, a middle and last address of an IPv4 range; and the neighbours just outside, where they exist. */
export function ipv4Edges(network: string, prefix: number) {
  const first = ipv4ToNumber(network);
  const size = 2 ** (32 - prefix);
  const last = first + size - 1;
  return {
    inside: [first, first + Math.floor(size / 2) + 1, last].filter((n) => n <= last).map(numberToIPv4),
    outside: [first - 1, last + 1].filter((n) => n >= 0 && n < IPV4_SIZE).map(numberToIPv4),
  };
}

export function inIPv4Ranges(address: string): boolean {
  const value = ipv4ToNumber(address);
  return IPV4_RANGES.some(([network, prefix]) => {
    const first = ipv4ToNumber(network);
    return value >= first && value < first + 2 ** (32 - prefix);
  });
}

export function ipv6ToBigInt(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const words = (part: string) => (part === '' ? [] : part.split(':'));
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  const all = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((sum, word) => (sum << 16n) | BigInt(parseInt(word, 16)), 0n);
}

/** The fully written form, e.g. 2001:db8:0:0:0:0:0:1 (what a resolver may well answer). */
export function bigIntToIPv6(value: bigint): string {
  const words: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) words.push(((value >> shift) & 0xffffn).toString(16));
  return words.join(':');
}

const IPV6_TOP = (1n << 128n) - 1n;

export function ipv6Edges(network: string, prefix: number) {
  const first = ipv6ToBigInt(network);
  const size = 1n << BigInt(128 - prefix);
  const last = first + size - 1n;
  return {
    inside: [first, first + size / 2n + 1n, last].filter((n) => n <= last).map(bigIntToIPv6),
    outside: [first - 1n, last + 1n].filter((n) => n >= 0n && n <= IPV6_TOP).map(bigIntToIPv6),
  };
}

/**
 * Whether an IPv6 neighbour is a public address the policy must let through: global unicast
 * 2000::/3 (RFC 4291 §2.4), outside every refused range and not an IPv4-carrying form.
 * Outside 2000::/3 nothing is assigned for unicast, so being refused there is not a fault.
 */
export function isPublicIPv6(address: string): boolean {
  const value = ipv6ToBigInt(address);
  if (value >> 125n !== 1n) return false;
  if (value >> 112n === 0x2002n) return false; // 6to4: judged by the IPv4 address it carries
  return !IPV6_RANGES.some(([network, prefix]) => {
    const shift = BigInt(128 - prefix);
    return value >> shift === ipv6ToBigInt(network) >> shift;
  });
}

/** Every way an IPv6 address can carry the IPv4 address `v4` towards a private destination. */
export function ipv4CarryingForms(v4: string): Array<[form: string, address: string]> {
  const n = ipv4ToNumber(v4);
  const high = Math.floor(n / 65536).toString(16);
  const low = (n % 65536).toString(16);
  return [
    ['IPv4-mapped', `::ffff:${v4}`],
    ['IPv4-mapped, hex', `::ffff:${high}:${low}`],
    ['IPv4-mapped, upper-case hex', `::FFFF:${high.toUpperCase()}:${low.toUpperCase()}`],
    ['IPv4-mapped, fully written', `0:0:0:0:0:ffff:${high}:${low}`],
    ['NAT64 64:ff9b::/96 (RFC 6052)', `64:ff9b::${v4}`],
    ['NAT64, hex', `64:ff9b::${high}:${low}`],
    ['6to4 2002::/16 (RFC 3056)', `2002:${high}:${low}::1`],
  ];
}

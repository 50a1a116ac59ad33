/**
 * The hostile URLs of the SSRF matrix, and the test DNS that names resolve through.
 *
 * Every target points at port `port` of an address a fetch must never reach. The lab
 * (test/support/ssrf-lab.ts) listens there on the loopback addresses a test can bind (127.0.0.2,
 * 127.0.0.3, ::1): real sockets that count connections. The public side of the Internet is
 * played by 127.0.0.1, which the tests allow explicitly and which no target names.
 */
import { IPV4_RANGES, IPV6_RANGES, ipv4Edges, ipv6Edges } from './ssrf-ranges.js';

/** The loopback addresses standing for private space; the lab listens on each. */
export const CANARY_IPV4 = ['127.0.0.2', '127.0.0.3'];
export const CANARY_IPV6 = '::1';
/** The stand-in for a public address, allowed in every test that uses the lab. */
export const PUBLIC_STAND_IN = '127.0.0.1';

/**
 * Test DNS: each name answers with the next list of addresses on each lookup (the last one
 * repeats); a name without an entry of its own takes its parent's (r1.rebind.test: rebind.test),
 * with its own count. `rebind.test` answers the public stand-in first and a canary afterwards: a fetch that
 * looked the name up again for its socket would land on the canary.
 */
export type DnsTable = Record<string, string[][]>;

export interface HostileTarget {
  /** What is tried, for the matrix's lines. */
  name: string;
  /** The URL for a document at `path` (starting with '/'). */
  url(path: string): string;
  /** Whether the fetch may legitimately reach the public stand-in (the rebinding case alone). */
  reachesPublic: boolean;
  /** safe-fetch's reason for refusing it, when it is not `blocked_address`. */
  refusedAs?: 'credentials' | 'scheme' | 'invalid_url';
}

/** An address of each refused range (the canary's where the range holds one), named in the DNS table. */
function rangeSamples(): Array<[label: string, address: string]> {
  const samples: Array<[string, string]> = [];
  for (const [network, prefix] of IPV4_RANGES) {
    // 127/8: a canary; 0/8: 0.0.0.0, which Linux connects to the local host.
    const address =
      network === '127.0.0.0'
        ? CANARY_IPV4[0]!
        : network === '0.0.0.0'
          ? '0.0.0.0'
          : ipv4Edges(network, prefix).inside[1]!;
    samples.push([`${network}/${prefix}`, address]);
  }
  for (const [network, prefix] of IPV6_RANGES) {
    const address = network === '::' ? CANARY_IPV6 : ipv6Edges(network, prefix).inside[1]!;
    samples.push([`${network}/${prefix}`, address]);
  }
  // IPv4 carried in IPv6, towards a canary and towards cloud metadata.
  for (const v4 of [CANARY_IPV4[1]!, '169.254.169.254']) {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    samples.push(
      [`IPv4-mapped ${v4}`, `::ffff:${v4}`],
      [`IPv4-mapped ${v4}, hex`, `::ffff:${hex}`],
      [`IPv4-compatible ${v4}`, `::${hex}`],
      [`NAT64 ${v4}`, `64:ff9b::${hex}`],
      [`6to4 ${v4}`, `2002:${hex}::1`],
    );
  }
  return samples;
}

/** The test DNS and the targets, for one canary port. */
export function hostileMatrix(port: number): { dns: DnsTable; targets: HostileTarget[] } {
  const dns: DnsTable = {};
  const targets: HostileTarget[] = [];
  const named = (name: string, host: string, extra: Partial<HostileTarget> = {}) =>
    targets.push({ name, url: (path) => `https://${host}:${port}${path}`, reachesPublic: false, ...extra });

  rangeSamples().forEach(([label, address], i) => {
    dns[`range${i}.victim.test`] = [[address]];
    named(`name -> ${address} (${label})`, `range${i}.victim.test`);
  });

  const [canary, canary2] = CANARY_IPV4 as [string, string];
  dns['rebind.test'] = [[PUBLIC_STAND_IN], [canary]];
  dns['mixed.test'] = [[PUBLIC_STAND_IN, canary]];
  dns['mixed-first.test'] = [[canary2, PUBLIC_STAND_IN]];
  dns['mixed6.test'] = [[PUBLIC_STAND_IN, CANARY_IPV6]];
  dns['upper.test'] = [[canary]];
  // A fresh name under rebind.test for each URL: each name rebinds after its own first lookup.
  let rebinds = 0;
  targets.push({
    name: 'rebinding: public, then 127.0.0.2 on the next lookup',
    url: (path) => `https://r${++rebinds}.rebind.test:${port}${path}`,
    reachesPublic: true,
  });
  named('name -> [public, 127.0.0.2]', 'mixed.test');
  named('name -> [127.0.0.3, public]', 'mixed-first.test');
  named('name -> [public, ::1]', 'mixed6.test');
  named('upper case name with a trailing dot -> 127.0.0.2', 'UPPER.TEST.');

  // Literal hosts, as a registrant could write them; WHATWG URL parsing turns most into 127.0.0.2.
  const literal: Array<[string, string, HostileTarget['refusedAs']?]> = [
    ['dotted', canary],
    ['decimal', '2130706434'],
    ['octal', '0177.0.0.2'],
    ['octal, one number', '017700000002'],
    ['hex, short form', '0x7f.2'],
    ['hex, upper case', '0X7F.0.0.2'],
    ['hex, one number', '0x7f000002'],
    ['short form a.b', '127.2'],
    ['trailing dot', `${canary}.`],
    ['percent-encoded', '%31%32%37.0.0.2'],
    ['percent-encoded dots', '127%2E0%2E0%2E2'],
    ['full-width digits and ideographic dots', '１２７。０。０。２'],
    ['IPv4-mapped literal', `[::ffff:${canary}]`],
    ['IPv4-mapped literal, hex', '[::ffff:7f00:2]'],
    ['IPv4-mapped literal, upper-case hex', '[::FFFF:7F00:3]'],
    ['IPv4-compatible literal', `[::${canary}]`],
    ['NAT64 literal', '[64:ff9b::7f00:2]'],
    ['6to4 literal', '[2002:7f00:2::1]'],
    ['IPv6 loopback', '[::1]'],
    ['IPv6 loopback, fully written', '[0:0:0:0:0:0:0:1]'],
    ['IPv6 link-local with a zone id', '[fe80::1%25lo]', 'invalid_url'],
    ['unspecified 0.0.0.0 (Linux connects it to the local host)', '0.0.0.0'],
    ['unspecified as a bare 0', '0'],
    ['cloud metadata', '169.254.169.254'],
    ['cloud metadata, decimal', '2852039166'],
    ['userinfo naming a good host', `good.example@${canary}`, 'credentials'],
    ['userinfo with a password', `good.example:443@${canary}`, 'credentials'],
  ];
  for (const [form, host, refusedAs] of literal) named(`${form}: ${host}`, host, refusedAs ? { refusedAs } : {});
  // A backslash is a path separator in https URLs: the host is the canary, not good.example.
  targets.push({
    name: 'backslash before @',
    url: (path) => `https://${canary}:${port}\\@good.example${path}`,
    reachesPublic: false,
  });
  targets.push({
    name: 'plain http',
    url: (path) => `http://${canary}:${port}${path}`,
    reachesPublic: false,
    refusedAs: 'scheme',
  });
  return { dns, targets };
}

/** A URL on the public stand-in that answers with a redirect to `target` (path-encoded, no query). */
export function viaRedirect(port: number, target: string, path: string): string {
  return `https://${PUBLIC_STAND_IN}:${port}/redirect/${Buffer.from(target).toString('base64url')}${path}`;
}

/** The redirect target encoded by viaRedirect, or undefined for any other path. */
export function redirectTargetOf(path: string): string | undefined {
  const match = /^\/redirect\/([A-Za-z0-9_-]+)\//.exec(path);
  return match ? Buffer.from(match[1]!, 'base64url').toString() : undefined;
}

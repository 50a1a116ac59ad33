/**
 * Representative addresses of every range a fetch must not reach, shared by the address-policy
 * table and the safe-fetch "refused before connecting" table.
 */
export const BLOCKED_ADDRESSES: ReadonlyArray<readonly [range: string, address: string]> = [
  ['loopback 127/8', '127.0.0.1'],
  ['loopback 127/8 (top)', '127.255.255.254'],
  ['unspecified 0.0.0.0', '0.0.0.0'],
  ['"this network" 0/8', '0.1.2.3'],
  ['private 10/8', '10.0.0.1'],
  ['private 10/8 (top)', '10.255.255.255'],
  ['private 172.16/12', '172.16.0.1'],
  ['private 172.16/12 (top)', '172.31.255.254'],
  ['private 192.168/16', '192.168.1.1'],
  ['link-local 169.254/16 (cloud metadata)', '169.254.169.254'],
  ['CGNAT 100.64/10', '100.64.0.1'],
  ['CGNAT 100.64/10 (top)', '100.127.255.254'],
  ['multicast 224/4', '224.0.0.1'],
  ['multicast 224/4 (top)', '239.255.255.250'],
  ['reserved 240/4', '240.0.0.1'],
  ['broadcast', '255.255.255.255'],
  ['IETF protocol assignments 192.0.0/24', '192.0.0.8'],
  ['documentation 192.0.2/24', '192.0.2.10'],
  ['documentation 198.51.100/24', '198.51.100.10'],
  ['documentation 203.0.113/24', '203.0.113.10'],
  ['benchmarking 198.18/15', '198.19.0.1'],
  ['loopback ::1', '::1'],
  ['unspecified ::', '::'],
  ['IPv4-compatible ::a.b.c.d', '::127.0.0.1'],
  ['ULA fc00::/7', 'fc00::1'],
  ['ULA fc00::/7 (fd)', 'fd12:3456:789a::1'],
  ['link-local fe80::/10', 'fe80::1'],
  ['link-local fe80::/10 with zone', 'fe80::1%eth0'],
  ['link-local fe80::/10 (top)', 'febf::1'],
  ['site-local fec0::/10', 'fec0::1'],
  ['multicast ff00::/8', 'ff02::1'],
  ['discard-only 100::/64', '100::1'],
  ['Teredo 2001::/32', '2001::1'],
  ['documentation 2001:db8::/32', '2001:db8::1'],
  ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
  ['IPv4-mapped loopback, hex form', '::ffff:7f00:1'],
  ['IPv4-mapped private', '::ffff:10.0.0.1'],
  ['IPv4-mapped cloud metadata', '::ffff:169.254.169.254'],
  ['IPv4-mapped, fully written', '0:0:0:0:0:ffff:c0a8:0101'],
  ['IPv4-translated ::ffff:0:0:0/96 of loopback', '::ffff:0:127.0.0.1'],
  ['IPv4-translated ::ffff:0:0:0/96, hex form', '::ffff:0:a00:1'],
  ['IPv4-translated ::ffff:0:0:0/96 of a public address', '::ffff:0:8.8.8.8'],
  ['IPv4-translated ::ffff:0:0:0/96, fully written', '0:0:0:0:ffff:0:c0a8:101'],
  ['NAT64 of loopback', '64:ff9b::127.0.0.1'],
  ['NAT64 of private', '64:ff9b::a00:1'],
  ['local-use NAT64 64:ff9b:1::/48', '64:ff9b:1::808:808'],
  ['6to4 of loopback', '2002:7f00:1::1'],
  ['6to4 of private', '2002:c0a8:101::1'],
];

/** Public unicast addresses, only ever judged, never connected to. */
export const PUBLIC_ADDRESSES: readonly string[] = [
  '93.184.215.14',
  '8.8.8.8',
  '1.1.1.1',
  '100.63.255.255', // just below CGNAT
  '100.128.0.0', // just above CGNAT
  '172.15.255.255', // just below 172.16/12
  '172.32.0.0', // just above 172.16/12
  '223.255.255.255', // just below multicast
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808', // NAT64 of a public address: how IPv6-only networks reach IPv4
  '2002:808:808::1', // 6to4 of a public address
];

/**
 * The address policy's edges, found by mutation testing: which IPv6 forms carry an IPv4 address
 * (and only those), how an allow list entry is read, and what is dialled. Each row is a case a
 * small slip in address-policy.ts would get wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connectableAddress,
  isBlockedAddress,
  parseAllowList,
  parseFetchAllowList,
} from '../../src/net/address-policy.js';

describe('IPv6 forms that carry an IPv4 address, and only those (RFC 4291 §2.5.5.2, RFC 6052, RFC 3056)', () => {
  // [address, blocked, why]. The public rows hold a blocked IPv4 address in their low bits, but
  // are not the form that carries it: reading them as IPv4 would refuse a public address and
  // dial another host than the one resolved.
  const cases: Array<[string, boolean, string]> = [
    ['::ffff:10.0.0.1', true, 'IPv4-mapped private'],
    ['::ffff:93.184.215.14', false, 'IPv4-mapped public, several digits in every octet'],
    ['::ffff:203.0.114.255', false, 'IPv4-mapped, just past TEST-NET-3'],
    ['2606::ffff:a00:1', false, 'first word not zero: not IPv4-mapped'],
    ['0:1::ffff:a00:1', false, 'second word not zero: not IPv4-mapped'],
    ['0:0:1:0:0:ffff:a00:1', false, 'third word not zero: not IPv4-mapped'],
    ['0:0:0:1:0:ffff:a00:1', false, 'fourth word not zero: not IPv4-mapped'],
    ['0:0:0:0:1:ffff:a00:1', false, 'fifth word not zero: not IPv4-mapped'],
    ['::1:a00:1', false, 'sixth word neither 0 nor ffff'],
    ['64:ff9b::a00:1', true, 'NAT64 well-known prefix of a private address'],
    ['64:ff9b::c000:301', false, 'NAT64 of 192.0.3.1, public: its low word decides'],
    ['65:ff9b::a00:1', false, 'not the NAT64 prefix (first word)'],
    ['64:1::a00:1', false, 'not the NAT64 prefix (second word)'],
    ['64:ff9b:2::a00:1', false, 'not the NAT64 /96 (third word)'],
    ['64:ff9b:0:1::a00:1', false, 'not the NAT64 /96 (fourth word)'],
    ['64:ff9b:0:0:1::a00:1', false, 'not the NAT64 /96 (fifth word)'],
    ['64:ff9b::1:0:a00:1', false, 'not the NAT64 /96 (fifth word, written short)'],
    ['64:ff9b:0:0:0:1:a00:1', false, 'not the NAT64 /96 (sixth word)'],
    ['2002:a00:1::1', true, '6to4 of a private address'],
    ['2002:c000:301::1', false, '6to4 of 192.0.3.1, public: its low word decides'],
    ['2606:a00:1::1', false, 'not 6to4: the IPv4 address is only carried under 2002::/16'],
    ['2606:4700::1%eth0', false, 'a zone does not change the verdict'],
    ['fe80::1%eth0', true, 'link-local with a zone'],
  ];
  for (const [address, blocked, why] of cases) {
    it(`${address} is ${blocked ? 'blocked' : 'public'} (${why})`, () => {
      assert.equal(isBlockedAddress(address), blocked);
    });
  }
});

describe('connectableAddress: what is judged is what is dialled', () => {
  const cases: Array<[string, { address: string; family: 4 | 6 }]> = [
    ['::ffff:93.184.215.14', { address: '93.184.215.14', family: 4 }],
    ['2606::ffff:808:808', { address: '2606::ffff:808:808', family: 6 }],
    ['::1:808:808', { address: '::1:808:808', family: 6 }],
    ['2606:4700::1%eth0', { address: '2606:4700::1', family: 6 }],
    ['8.8.8.8%eth0', { address: '8.8.8.8', family: 4 }],
  ];
  for (const [address, expected] of cases) {
    it(`${address} -> ${expected.address}`, () => assert.deepEqual(connectableAddress(address), expected));
  }
});

describe('parseAllowList: addresses and CIDRs, or a TypeError naming the entry', () => {
  const accepted: Array<[string, string, string]> = [
    // [entry, an address it opens, an address it leaves blocked]
    [' 127.0.0.1 ', '127.0.0.1', '127.0.0.2'],
    ['[::1]', '::1', '::2'],
    ['0.0.0.0/0', '10.9.8.7', 'fe80::1'],
    ['10.1.0.0/16', '10.1.255.255', '10.2.0.0'],
  ];
  for (const [entry, opened, closed] of accepted) {
    it(`${JSON.stringify(entry)} opens ${opened}, not ${closed}`, () => {
      const allowed = parseAllowList([entry]);
      assert.equal(isBlockedAddress(opened, allowed), false);
      assert.equal(isBlockedAddress(closed, allowed), true);
    });
  }

  for (const entry of [
    '10.0.0.0/-1',
    'x[::1]',
    '[::1]x',
    '[127.0.0.1',
    '::/129',
    'a[::1]',
    '[::1]1',
    // An empty or non-decimal prefix must not read as /0 (every address) or any other number.
    '10.0.0.0/',
    '::1/',
    '10.0.0.0/1e1',
    '10.0.0.0/0x8',
    '10.0.0.0/ 8',
  ]) {
    it(`refuses ${JSON.stringify(entry)}`, () => {
      assert.throws(
        () => parseAllowList([entry]),
        (error: unknown) => error instanceof TypeError && error.message.includes(`"${entry}"`),
      );
    });
  }
});

describe('parseFetchAllowList: addresses, CIDRs and RFC 1123 host names', () => {
  it('sorts addresses and names, trimming and lower-casing, without a trailing dot', () => {
    const list = parseFetchAllowList([' 10.0.0.1 ', '[::1]', 'LocalHost.', 'a.b-c.example', 'x', 'a1.b2']);
    assert.deepEqual([...list.hostnames].sort(), ['a.b-c.example', 'a1.b2', 'localhost', 'x']);
    assert.ok(list.addresses);
    assert.equal(isBlockedAddress('10.0.0.1', list.addresses), false);
    assert.equal(isBlockedAddress('::1', list.addresses), false);
  });

  it('refuses a bracket that is not the whole address, naming the entry', () => {
    for (const entry of ['a[::1]', '[::1]1']) {
      assert.throws(
        () => parseFetchAllowList([entry]),
        (error: unknown) =>
          error instanceof TypeError &&
          error.message === `allowAddresses: "${entry}" is not an IP address, CIDR or host name`,
      );
    }
  });

  it('has no address list when no entry is an address', () => {
    assert.equal(parseFetchAllowList(['localhost']).addresses, undefined);
    assert.equal(parseFetchAllowList([]).addresses, undefined);
  });

  const label63 = 'a'.repeat(63);
  const valid = [
    'example.x',
    label63,
    `${label63}.example`,
    `${'a'.repeat(61)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`,
  ];
  for (const name of valid) {
    it(`accepts the host name ${name.length > 20 ? `${name.slice(0, 12)}... (${name.length})` : name}`, () => {
      assert.deepEqual([...parseFetchAllowList([name]).hostnames], [name]);
    });
  }

  const invalid = [
    '-a',
    'a-',
    'a.-b',
    'a.b-',
    'a_b',
    'a..b',
    '.a',
    'a b',
    'a.b_c',
    'a'.repeat(64),
    `a.${'b'.repeat(64)}`,
    // 255 characters of valid labels: over RFC 1123's 253.
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`,
  ];
  for (const name of invalid) {
    it(`refuses ${JSON.stringify(name.length > 20 ? `${name.slice(0, 12)}... (${name.length})` : name)}`, () => {
      assert.throws(
        () => parseFetchAllowList([name]),
        (error: unknown) => error instanceof TypeError && error.message.includes(`"${name}"`),
      );
    });
  }
});

/**
 * Every refused range, probed at its first address, one inside and its last, and just outside
 * both edges (which must pass when public): a removed row or a prefix typo in the policy's table
 * fails here. The ranges come from test/support/ssrf-ranges.ts, written from the RFCs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBlockedAddress } from '../../src/net/address-policy.js';
import {
  inIPv4Ranges,
  IPV4_RANGES,
  IPV6_RANGES,
  ipv4CarryingForms,
  ipv4Edges,
  ipv6Edges,
  isPublicIPv6,
} from '../support/ssrf-ranges.js';

describe('every IPv4 range of the special-purpose registry is refused, edge to edge', () => {
  for (const [network, prefix, source] of IPV4_RANGES) {
    it(`${network}/${prefix} (${source})`, () => {
      const { inside, outside } = ipv4Edges(network, prefix);
      for (const address of inside) {
        assert.equal(isBlockedAddress(address), true, `${address} is in ${network}/${prefix}`);
        for (const [form, carried] of ipv4CarryingForms(address)) {
          assert.equal(isBlockedAddress(carried), true, `${form} ${carried} carries ${address}`);
        }
      }
      for (const address of outside.filter((a) => !inIPv4Ranges(a))) {
        assert.equal(isBlockedAddress(address), false, `${address} is just outside ${network}/${prefix}, public`);
        for (const [form, carried] of ipv4CarryingForms(address)) {
          assert.equal(isBlockedAddress(carried), false, `${form} ${carried} carries public ${address}`);
        }
      }
    });
  }
});

describe('every refused IPv6 range, edge to edge', () => {
  for (const [network, prefix, source] of IPV6_RANGES) {
    it(`${network}/${prefix} (${source})`, () => {
      const { inside, outside } = ipv6Edges(network, prefix);
      for (const address of inside) {
        assert.equal(isBlockedAddress(address), true, `${address} is in ${network}/${prefix}`);
        assert.equal(isBlockedAddress(address.toUpperCase()), true, `${address.toUpperCase()} (upper case)`);
      }
      for (const address of outside.filter(isPublicIPv6)) {
        assert.equal(isBlockedAddress(address), false, `${address} is just outside ${network}/${prefix}, public`);
      }
    });
  }

  it('probes public neighbours at all (the filter above is no blanket skip)', () => {
    const checked = IPV6_RANGES.flatMap(([n, p]) => ipv6Edges(n, p).outside.filter(isPublicIPv6));
    assert.ok(checked.length >= 6, `only ${checked.length} public IPv6 neighbours`);
  });
});

describe('IPv4 carried in IPv6, written every way', () => {
  it('IPv4-mapped and IPv4-compatible loopback in each notation', () => {
    for (const address of [
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::FFFF:7F00:0001',
      '0:0:0:0:0:ffff:7f00:1',
      '::127.0.0.1',
      '::7f00:1',
    ]) {
      assert.equal(isBlockedAddress(address), true, address);
    }
  });

  it('IPv4-translated ::ffff:0:a.b.c.d is refused even for a public address (a translator could send it anywhere)', () => {
    for (const address of ['::ffff:0:8.8.8.8', '::ffff:0:808:808', '::ffff:0:127.0.0.1']) {
      assert.equal(isBlockedAddress(address), true, address);
    }
  });

  it('NAT64 and 6to4 carrying a public address pass (they are how IPv6-only hosts reach the Internet)', () => {
    for (const address of [
      '64:ff9b::8.8.8.8',
      '64:ff9b::808:808',
      '2002:808:808::1',
      '::ffff:8.8.8.8',
      '::ffff:808:808',
    ]) {
      assert.equal(isBlockedAddress(address), false, address);
    }
  });
});

describe('zone ids and non-canonical text', () => {
  it('a zone id does not change the verdict', () => {
    for (const address of [
      'fe80::1%eth0',
      'fe80::1%1',
      '::1%lo',
      'ff02::1%eth0',
      'fd00::1%wg0',
      '::ffff:127.0.0.1%eth0',
    ]) {
      assert.equal(isBlockedAddress(address), true, address);
    }
    assert.equal(isBlockedAddress('2606:4700:4700::1111%eth0'), false, 'a public address stays public');
  });

  it('text that is not a canonical IP address is refused, never parsed loosely', () => {
    for (const text of [
      '0177.0.0.1',
      '0x7f.0.0.1',
      '127.1',
      '2130706433',
      '127.0.0.1.',
      ' 8.8.8.8',
      '8.8.8.8 ',
      '[::1]',
      '::1]',
    ]) {
      assert.equal(isBlockedAddress(text), true, JSON.stringify(text));
    }
  });

  it('public controls pass', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e']) {
      assert.equal(isBlockedAddress(address), false, address);
    }
  });
});

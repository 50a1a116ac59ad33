import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectableAddress, isBlockedAddress, parseAllowList } from '../../src/net/address-policy.js';
import { BLOCKED_ADDRESSES, PUBLIC_ADDRESSES } from './blocked-addresses.js';

describe('isBlockedAddress', () => {
  for (const [range, address] of BLOCKED_ADDRESSES) {
    it(`blocks ${range} (${address})`, () => {
      assert.equal(isBlockedAddress(address), true);
    });
  }

  for (const address of PUBLIC_ADDRESSES) {
    it(`lets public ${address} through`, () => {
      assert.equal(isBlockedAddress(address), false);
    });
  }

  it('blocks anything that is not an IP address', () => {
    for (const value of ['', 'localhost', 'example.com', '127.1', '1.2.3.256', '::g']) {
      assert.equal(isBlockedAddress(value), true, value);
    }
  });

  it('an allow list opens exactly what it names', () => {
    const allowed = parseAllowList(['127.0.0.1', '10.1.0.0/16', '::1']);
    assert.equal(isBlockedAddress('127.0.0.1', allowed), false);
    assert.equal(isBlockedAddress('::ffff:127.0.0.1', allowed), false, 'judged as its IPv4 address');
    assert.equal(isBlockedAddress('::1', allowed), false);
    assert.equal(isBlockedAddress('10.1.200.3', allowed), false);
    assert.equal(isBlockedAddress('127.0.0.2', allowed), true);
    assert.equal(isBlockedAddress('10.2.0.1', allowed), true);
    assert.equal(isBlockedAddress('169.254.169.254', allowed), true);
  });
});

describe('parseAllowList', () => {
  it('refuses malformed entries with a TypeError', () => {
    for (const entry of ['localhost', '10.0.0.0/33', '::/129', '10.0.0.0/8/1', '10.0.0.0/x', '']) {
      assert.throws(() => parseAllowList([entry]), TypeError, entry);
    }
  });
});

describe('connectableAddress', () => {
  it('dials an IPv4-mapped address as the IPv4 address it was judged as', () => {
    assert.deepEqual(connectableAddress('::ffff:8.8.8.8'), { address: '8.8.8.8', family: 4 });
    assert.deepEqual(connectableAddress('::ffff:808:808'), { address: '8.8.8.8', family: 4 });
    assert.deepEqual(connectableAddress('2606:4700::1111'), { address: '2606:4700::1111', family: 6 });
    assert.deepEqual(connectableAddress('1.1.1.1'), { address: '1.1.1.1', family: 4 });
  });
});

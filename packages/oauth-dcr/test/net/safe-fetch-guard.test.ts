/**
 * What safeFetch refuses before any socket exists. Socket#connect is replaced by a trap for the
 * whole file, so a broken guard fails the test instead of dialling a private or public address.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import net from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import {
  safeFetch,
  SafeFetchError,
  type LookupAllFunction,
  type SafeFetchErrorReason,
} from '../../src/net/safe-fetch.js';
import { BLOCKED_ADDRESSES } from './blocked-addresses.js';

let connectAttempts = 0;
before(() => {
  mock.method(net.Socket.prototype, 'connect', function trap(): never {
    connectAttempts += 1;
    throw new Error('safeFetch tried to connect');
  });
});
after(() => mock.restoreAll());

/** A resolver that answers every name with `addresses` and records the names asked. */
function resolvingTo(...addresses: string[]): LookupAllFunction & { asked: string[] } {
  const asked: string[] = [];
  const lookup = (hostname: string, _options: unknown, callback: (e: null, a: LookupAddress[]) => void): void => {
    asked.push(hostname);
    callback(
      null,
      addresses.map((address) => ({ address, family: net.isIP(address.split('%')[0] ?? '') })),
    );
  };
  return Object.assign(lookup, { asked });
}

async function assertRefused(
  promise: Promise<unknown>,
  reason: SafeFetchErrorReason,
  check: (error: SafeFetchError) => void = () => {},
): Promise<void> {
  const attemptsBefore = connectAttempts;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SafeFetchError, `expected SafeFetchError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    check(error);
    return true;
  });
  assert.equal(connectAttempts, attemptsBefore, 'no connection may be attempted');
}

describe('the connection trap', () => {
  it('does catch a connection attempt (so the refusals below prove something)', async () => {
    const before = connectAttempts;
    await assert.rejects(
      safeFetch('https://allowed.example/', { lookup: resolvingTo('10.0.0.1'), allowAddresses: ['10.0.0.1'] }),
      (error: unknown) => error instanceof SafeFetchError && error.reason === 'network',
    );
    assert.equal(connectAttempts, before + 1);
  });
});

describe('safeFetch refuses a host resolving to a blocked address, before connecting', () => {
  for (const [range, address] of BLOCKED_ADDRESSES) {
    it(`${range}: ${address}`, async () => {
      const lookup = resolvingTo(address);
      await assertRefused(safeFetch('https://victim.example/jwks.json', { lookup }), 'blocked_address', (error) => {
        assert.match(error.message, /https:\/\/victim\.example\/jwks\.json/);
        assert.doesNotMatch(
          error.message,
          new RegExp(address.replace(/[.]/g, '\\.')),
          'internal address stays private',
        );
      });
      assert.deepEqual(lookup.asked, ['victim.example']);
    });
  }
});

describe('safeFetch judges every resolved address', () => {
  it('refuses a name resolving to 127.0.0.1 by default', async () => {
    await assertRefused(safeFetch('https://rebind.example/', { lookup: resolvingTo('127.0.0.1') }), 'blocked_address');
  });

  it('refuses mixed answers: one public, one private', async () => {
    await assertRefused(
      safeFetch('https://mixed.example/', { lookup: resolvingTo('93.184.215.14', '10.0.0.1') }),
      'blocked_address',
    );
    await assertRefused(
      safeFetch('https://mixed.example/', { lookup: resolvingTo('2606:4700::1111', 'fd00::1') }),
      'blocked_address',
    );
  });

  it('refuses localhost through the real resolver', async () => {
    await assertRefused(safeFetch('https://localhost/'), 'blocked_address');
  });

  it('an allowance for one address does not open its neighbours', async () => {
    await assertRefused(
      safeFetch('https://x.example/', { lookup: resolvingTo('127.0.0.1', '127.0.0.2'), allowAddresses: ['127.0.0.1'] }),
      'blocked_address',
    );
  });

  it('reports resolver failures and empty answers as dns', async () => {
    const failing: LookupAllFunction = (_host, _options, callback) => {
      callback(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), []);
    };
    await assertRefused(safeFetch('https://nowhere.example/', { lookup: failing }), 'dns');
    await assertRefused(safeFetch('https://empty.example/', { lookup: resolvingTo() }), 'dns');
  });
});

describe('safeFetch checks IP literals in the URL', () => {
  const literals = [
    'https://127.0.0.1/',
    'https://127.0.0.1:8443/x',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:a9fe:a9fe]/', // 169.254.169.254
    'https://[64:ff9b::a9fe:a9fe]/',
    'https://[fe80::1]/',
    'https://0x7f000001/', // the WHATWG parser normalises these to 127.0.0.1
    'https://2130706433/',
    'https://0177.0.0.1/',
    'https://127.1/',
    'https://10.1/',
    'https://169.254.169.254/latest/meta-data/',
    'https://0.0.0.0/',
  ];
  for (const url of literals) {
    it(url, async () => {
      const lookup = resolvingTo('93.184.215.14');
      await assertRefused(safeFetch(url, { lookup }), 'blocked_address');
      assert.deepEqual(lookup.asked, [], 'a literal is not resolved');
    });
  }
});

describe('safeFetch refuses unsafe URLs', () => {
  const lookup = resolvingTo('93.184.215.14');
  const cases: Array<[string, SafeFetchErrorReason]> = [
    ['http://example.com/jwks.json', 'scheme'],
    ['HTTP://example.com/', 'scheme'],
    ['ftp://example.com/', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['data:application/json,{}', 'scheme'],
    ['javascript:alert(1)', 'scheme'],
    ['ws://example.com/', 'scheme'],
    ['https://user:hunter2@example.com/jwks.json', 'credentials'],
    ['https://user@example.com/', 'credentials'],
    ['https://:hunter2@example.com/', 'credentials'],
    ['/relative/path', 'invalid_url'],
    ['https://', 'invalid_url'],
    ['https://exa mple.com/', 'invalid_url'],
    ['https://[::1/', 'invalid_url'],
  ];
  for (const [url, reason] of cases) {
    it(`${url} -> ${reason}`, async () => {
      await assertRefused(safeFetch(url, { lookup }), reason, (error) => {
        assert.doesNotMatch(error.message, /hunter2/);
        assert.doesNotMatch(error.url, /hunter2|user@/);
      });
      assert.deepEqual(lookup.asked, []);
    });
  }

  it('names the URL, without credentials, in the message', async () => {
    await assertRefused(safeFetch('https://alice:s3cret@example.com/keys#frag', { lookup }), 'credentials', (error) => {
      assert.equal(error.url, 'https://example.com/keys');
      assert.match(error.message, /https:\/\/example\.com\/keys/);
      assert.doesNotMatch(error.message, /alice|s3cret/);
    });
  });

  it('accepts URL objects', async () => {
    await assertRefused(safeFetch(new URL('http://example.com/')), 'scheme');
  });
});

describe('safeFetch options', () => {
  it('rejects nonsensical settings with a TypeError', async () => {
    const url = 'https://example.com/';
    await assert.rejects(safeFetch(url, { accept: [] }), TypeError);
    await assert.rejects(safeFetch(url, { accept: ['json'] }), TypeError);
    await assert.rejects(safeFetch(url, { maxBytes: -1 }), TypeError);
    await assert.rejects(safeFetch(url, { timeoutMs: 0 }), TypeError);
    await assert.rejects(safeFetch(url, { maxRedirects: 1.5 }), TypeError);
    await assert.rejects(safeFetch(url, { allowAddresses: ['local host'] }), TypeError);
    await assert.rejects(
      safeFetch(url, { accept: ['application/*+json'] }),
      TypeError,
      'a pattern alone sends no Accept',
    );
    await assert.rejects(safeFetch(url, { accept: ['application/*'] }), TypeError);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheLifetime } from '../../src/net/cache-lifetime.js';

const BOUNDS = { defaultSeconds: 300, minSeconds: 60, maxSeconds: 86400 };
const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('cacheLifetime (RFC 9111 §4.2.1, clamped)', () => {
  const cases: Array<[string, Record<string, string>, number]> = [
    ['no header: the default', {}, 300],
    ['max-age inside the bounds', { 'cache-control': 'public, max-age=600' }, 600],
    ['max-age below the floor', { 'cache-control': 'max-age=5' }, 60],
    ['max-age above the ceiling', { 'cache-control': 'max-age=999999' }, 86400],
    ['no-store: the floor', { 'cache-control': 'no-store' }, 60],
    ['no-cache: the floor', { 'cache-control': 'no-cache, max-age=600' }, 60],
    ['Expires against Date', { expires: 'Thu, 01 Jan 2026 00:20:00 GMT', date: 'Thu, 01 Jan 2026 00:10:00 GMT' }, 600],
    ['Expires against our clock without Date', { expires: 'Thu, 01 Jan 2026 00:15:00 GMT' }, 900],
    ['max-age wins over Expires', { 'cache-control': 'max-age=120', expires: 'Thu, 01 Jan 2026 05:00:00 GMT' }, 120],
    ['an invalid Expires is already expired', { expires: '0' }, 60],
    ['an Expires in the past', { expires: 'Wed, 31 Dec 2025 00:00:00 GMT' }, 60],
  ];
  for (const [name, headers, expected] of cases) {
    it(name, () => assert.equal(cacheLifetime(new Headers(headers), BOUNDS, NOW), expected));
  }
});

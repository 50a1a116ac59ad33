/**
 * Redirect URI rules that mutation testing found unheld (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700
 * §4.1.3), through the package's exports. Each row is a URI one small slip in redirect-uris.ts
 * would let through, or turn away.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyRedirectUri, RegistrationError, redirectUriMatches } from 'oauth-dcr';

const strict = { requireHttps: true };
const lenient = { requireHttps: false };

function assertRefused(uri: string, rules: { requireHttps: boolean }, message: RegExp): void {
  assert.throws(
    () => classifyRedirectUri(uri, rules),
    (error: unknown) =>
      error instanceof RegistrationError && error.code === 'invalid_redirect_uri' && message.test(error.message),
  );
}

describe('classifyRedirectUri refuses what is never a redirect target', () => {
  const refused: Array<[string, RegExp]> = [
    ['about:blank', /scheme 'about' is not allowed: about:blank/],
    ['filesystem:https://app.example.com/temporary/cb', /scheme 'filesystem' is not allowed/],
    ['ws://app.example.com/cb', /scheme 'ws' is not allowed: ws:\/\/app\.example\.com\/cb/],
    ['wss://app.example.com/cb', /scheme 'wss' is not allowed: wss:\/\/app\.example\.com\/cb/],
    ['ftp://app.example.com/cb', /scheme 'ftp' is not allowed: ftp:\/\/app\.example\.com\/cb/],
    ['https://*.example.com/cb', /must not contain a wildcard: https:\/\/\*\.example\.com\/cb/],
    ['https://user@app.example.com/cb', /must not contain credentials/],
    ['https://:pw@app.example.com/cb', /must not contain credentials/],
    ['http://user@127.0.0.1:8080/cb', /must not contain credentials/],
  ];
  for (const [uri, message] of refused) {
    it(`refuses ${uri}, https required or not`, () => {
      assertRefused(uri, strict, message);
      assertRefused(uri, lenient, message);
    });
  }

  it('refuses a URI longer than 2048 characters, quoting only its start', () => {
    const uri = `https://app.example.com/${'a'.repeat(2049 - 'https://app.example.com/'.length)}`;
    assert.equal(uri.length, 2049);
    assertRefused(
      uri,
      strict,
      /^Redirect URI is longer than 2048 characters: https:\/\/app\.example\.com\/a{40}\.\.\.$/,
    );
  });

  it('accepts a URI of exactly 2048 characters', () => {
    const uri = `https://app.example.com/${'a'.repeat(2048 - 'https://app.example.com/'.length)}`;
    assert.equal(uri.length, 2048);
    assert.equal(classifyRedirectUri(uri, strict), 'https');
  });
});

describe('redirectUriMatches: exact, except the loopback port (RFC 8252 §7.3)', () => {
  const cases: Array<[string, unknown[], unknown, boolean]> = [
    [
      'userinfo that looks like a loopback host and port',
      ['http://127.0.0.1/'],
      'http://127.0.0.1:5678@evil.example/',
      false,
    ],
    ['a host that starts with localhost', ['http://localhost/'], 'http://localhost.evil.example/', false],
    [
      'a host that starts with localhost, with a port',
      ['http://localhost/cb'],
      'http://localhost.evil.example:80/cb',
      false,
    ],
    ['a fragment after the port', ['http://127.0.0.1/'], 'http://127.0.0.1:5678#x', false],
    ['another scheme ending in http', ['http://127.0.0.1/cb'], 'web+http://127.0.0.1:5678/cb', false],
    ['letters after the port', ['http://[::1]/'], 'http://[::1]:80x/', false],
    ['loopback host written in upper case', ['http://localhost/cb'], 'http://LOCALHOST:4000/cb', true],
    ['an empty string registered', [''], '', false],
    ['an array requested (a repeated query parameter)', ['http://127.0.0.1/cb'], ['http://127.0.0.1/cb'], false],
    ['an array requested, one registered URI', ['https://app.example.com/cb'], ['https://app.example.com/cb'], false],
    ['a number requested', ['http://127.0.0.1/cb'], 42, false],
    ['a non-string stored among the registered', [['http://127.0.0.1/cb']], 'http://127.0.0.1:5678/cb', false],
  ];
  for (const [name, registered, requested, expected] of cases) {
    it(`${name}: ${expected ? 'matches' : 'no match'}`, () => {
      assert.equal(redirectUriMatches(registered as string[], requested as string), expected);
    });
  }
});

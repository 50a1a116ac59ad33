/**
 * Redirect URI rules a one-line slip would break unnoticed, through the registration endpoint and
 * the exported matcher:
 * - RFC 8252 §7.3 / RFC 6749 §3.1.2.1: with https required, plain http is allowed on the loopback
 *   interface only. A port says nothing about transport security: `http://example.com:8080/cb` is
 *   as plain as `http://example.com/cb`.
 * - RFC 8252 §7.3 / §8.3: loopback means the host is exactly the IP literal 127.0.0.1 or [::1],
 *   or the name `localhost`; a host that merely starts with one of them (`localhost.evil.example`,
 *   `127.0.0.1.evil.example`) is somebody else's server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redirectUriMatches } from '../../src/index.js';
import { makeRegistration, register } from '../support/registration.js';

const publicClient = (redirectUri: string) => ({
  redirect_uris: [redirectUri],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
});

describe('https required: plain http is refused whatever its port (RFC 8252 §7.3)', () => {
  const strict = makeRegistration({ requireHttpsRedirectUris: true });
  const refused = [
    'http://example.com:8080/cb',
    'http://example.com:443/cb',
    'http://example.com:80/cb',
    'http://example.com/cb',
    'HTTP://EXAMPLE.COM:8080/cb',
    'http://10.0.0.1:8080/cb',
  ];
  for (const uri of refused) {
    it(`refuses ${uri} with 400 invalid_redirect_uri`, async () => {
      const res = await register(strict, publicClient(uri));
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error, 'invalid_redirect_uri');
    });
  }

  const accepted = ['https://example.com:8443/cb', 'https://example.com/cb', 'http://127.0.0.1:8080/cb'];
  for (const uri of accepted) {
    it(`accepts ${uri}`, async () => {
      const res = await register(strict, publicClient(uri));
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(res.body.redirect_uris, [uri]);
    });
  }

  it('accepts http://example.com:8080/cb when https is not required (the port itself is fine)', async () => {
    const res = await register(
      makeRegistration({ requireHttpsRedirectUris: false }),
      publicClient('http://example.com:8080/cb'),
    );
    assert.equal(res.status, 201, res.text);
  });
});

describe('loopback is an exact host, not a prefix (RFC 8252 §7.3, §8.3)', () => {
  const strict = makeRegistration({ requireHttpsRedirectUris: true });
  const lookAlikes = [
    'http://localhost.evil.example/cb',
    'http://localhost.evil.example:8080/cb',
    'http://LOCALHOST.evil.example/cb',
    'http://localhostevil.example/cb',
    'http://localhost-evil.example/cb',
    'http://127.0.0.1.evil.example/cb',
    'http://127.0.0.1.nip.io/cb',
    'http://127.0.0.1evil.example/cb',
    'http://[::1].evil/cb',
    'http://[::1].evil.example:8080/cb',
    // A trailing dot makes a different name to the resolver's search rules; RFC 8252 names only
    // `localhost` and the IP literals, so the dotted form is not taken as loopback.
    'http://localhost./cb',
    'http://127.0.0.1:80@evil.example/cb',
    'http://localhost@evil.example/cb',
  ];
  for (const uri of lookAlikes) {
    it(`refuses ${uri} as a plain http redirect`, async () => {
      const res = await register(strict, publicClient(uri));
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error, 'invalid_redirect_uri');
    });
  }

  const loopback = [
    'http://localhost/cb',
    'http://localhost:3000/cb',
    'http://127.0.0.1/cb',
    'http://127.0.0.1:33418/callback',
    'http://[::1]/cb',
    'http://[::1]:8080/cb',
  ];
  for (const uri of loopback) {
    it(`accepts ${uri} as loopback, inferring a native client`, async () => {
      const res = await register(strict, publicClient(uri));
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.application_type, 'native');
    });
  }
});

describe('redirectUriMatches: the loopback port exception is for loopback hosts only (RFC 8252 §7.3)', () => {
  const cases: Array<[registered: string, requested: string, matches: boolean]> = [
    ['http://localhost/cb', 'http://localhost:5173/cb', true],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:49152/cb', true],
    ['http://[::1]:8080/cb', 'http://[::1]:9090/cb', true],
    ['http://localhost/cb', 'http://localhost.evil.example/cb', false],
    ['http://localhost/cb', 'http://localhost.evil.example:5173/cb', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1.evil.example/cb', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1.evil.example:80/cb', false],
    ['http://[::1]/cb', 'http://[::1].evil/cb', false],
    ['http://localhost/cb', 'http://127.0.0.1/cb', false],
    ['http://localhost/cb', 'http://localhost:5173/cb/../evil', false],
    ['https://example.com/cb', 'https://example.com:8443/cb', false],
    ['http://example.com/cb', 'http://example.com:8080/cb', false],
    ['http://example.com:8080/cb', 'http://example.com:9090/cb', false],
    // RFC 6749 §3.1.2.3 / RFC 9700 §4.1.3: exact string comparison, no prefix, no normalization.
    ['https://app.example.com/cb', 'https://app.example.com/cb', true],
    ['https://app.example.com/cb', 'https://app.example.com/cbx', false],
    ['https://app.example.com/cb', 'https://app.example.com/cb/', false],
    ['https://app.example.com/cb', 'https://app.example.com/cb/../evil', false],
    ['https://app.example.com/cb', 'https://app.example.com/cb?next=https://evil.example', false],
    ['https://app.example.com/cb', 'https://app.example.com/cb#frag', false],
    ['https://app.example.com/cb', 'https://APP.example.com/cb', false],
    ['https://app.example.com/cb', 'https://app.example.com.evil.example/cb', false],
    ['https://app.example.com/cb?a=1', 'https://app.example.com/cb?a=1&b=2', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb?x=1', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb/more', false],
    ['com.example.app:/cb', 'com.example.app:/cb/evil', false],
  ];
  for (const [registered, requested, matches] of cases) {
    it(`${requested} ${matches ? 'matches' : 'does not match'} ${registered}`, () => {
      assert.equal(redirectUriMatches([registered], requested), matches);
    });
  }
});

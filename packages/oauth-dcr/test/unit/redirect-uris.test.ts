import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRedirectUri, hasImpossiblePort, redirectUriMatches } from '../../src/metadata/redirect-uris.js';
import { RegistrationError } from '../../src/core/errors.js';

const strict = { requireHttps: true };

describe('classifyRedirectUri (RFC 6749 §3.1.2, RFC 8252 §7)', () => {
  const accepted: Array<[string, string]> = [
    ['https://app.example.com/cb', 'https'],
    ['https://app.example.com/cb?x=1', 'https'],
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.0.0.1:33418/', 'loopback'],
    ['http://[::1]:8080/callback', 'loopback'],
    ['http://localhost:6274/oauth/callback', 'loopback'],
    ['http://127.0.0.1:1/cb', 'loopback'],
    ['http://127.0.0.1:65535/cb', 'loopback'],
    ['cursor://anysphere.cursor-mcp/oauth/callback', 'private-use'],
    ['com.example.app:/oauth2redirect', 'private-use'],
    ['vscode://vscode.github-authentication/did-authenticate', 'private-use'],
  ];
  for (const [uri, kind] of accepted) {
    it(`accepts ${uri} as ${kind}`, () => assert.equal(classifyRedirectUri(uri, strict), kind));
  }

  const refused: Array<[string, RegExp]> = [
    ['/relative/cb', /absolute/],
    ['example.com/cb', /absolute/],
    ['https://app.example.com/cb#frag', /fragment/],
    ['https://app.example.com/cb#', /fragment/],
    ['javascript:alert(1)', /scheme 'javascript'/],
    ['JavaScript:alert(1)', /scheme 'javascript'/],
    ['data:text/html,hi', /scheme 'data'/],
    ['vbscript:msgbox', /scheme 'vbscript'/],
    ['file:///etc/passwd', /scheme 'file'/],
    ['blob:https://a.example/uuid', /scheme 'blob'/],
    ['http://example.com/callback', /HTTPS required for redirect URIs in production: http:\/\/example.com\/callback/],
    ['http://127.0.0.2/cb', /HTTPS required/],
    ['https://user:pw@app.example.com/cb', /credentials/],
    ['https://app.example.com/c b', /whitespace/],
    ['', /empty/],
    // RFC 6335 §6: ports are 1-65535. WHATWG URL throws above 65535 and accepts 0.
    ['http://127.0.0.1:65536/cb', /port must be between 1 and 65535: http:\/\/127\.0\.0\.1:65536\/cb/],
    ['http://127.0.0.1:99999/cb', /port must be between 1 and 65535: http:\/\/127\.0\.0\.1:99999\/cb/],
    ['http://127.0.0.1:0/cb', /port must be between 1 and 65535: http:\/\/127\.0\.0\.1:0\/cb/],
    ['http://[::1]:70000/cb', /port must be between 1 and 65535/],
    ['http://localhost:00000/cb', /port must be between 1 and 65535/],
    ['http://127.0.0.1:65536', /port must be between 1 and 65535/],
    ['https://app.example.com:0/cb', /port must be between 1 and 65535/],
    ['https://app.example.com:123456/cb', /port must be between 1 and 65535/],
    ['cursor://anysphere.cursor-mcp:99999/cb', /port must be between 1 and 65535/],
  ];
  for (const [uri, message] of refused) {
    it(`refuses ${JSON.stringify(uri)}`, () => {
      assert.throws(
        () => classifyRedirectUri(uri, strict),
        (error: unknown) => {
          assert.ok(error instanceof RegistrationError);
          assert.equal(error.code, 'invalid_redirect_uri');
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('names the offending URI in the error', () => {
    assert.throws(() => classifyRedirectUri('javascript:alert(1)', strict), /javascript:alert\(1\)/);
  });

  it('allows plain http off loopback only when HTTPS is not required', () => {
    assert.equal(classifyRedirectUri('http://example.com/cb', { requireHttps: false }), 'http');
  });

  it('honours allowedRedirectUriSchemes', () => {
    const rules = { requireHttps: true, allowedSchemes: new Set(['https']) };
    assert.equal(classifyRedirectUri('https://a.example/cb', rules), 'https');
    assert.throws(() => classifyRedirectUri('cursor://x/cb', rules), /scheme 'cursor' is not allowed/);
  });
});

describe('redirectUriMatches (RFC 6749 §3.1.2.3, RFC 8252 §7.3)', () => {
  const cases: Array<[string[], string, boolean]> = [
    [['https://app.example.com/cb'], 'https://app.example.com/cb', true],
    [['https://app.example.com/cb'], 'https://app.example.com/cb/', false],
    [['https://app.example.com/cb'], 'https://app.example.com/CB', false],
    [['https://app.example.com/cb'], 'https://app.example.com/cb?x=1', false],
    [['https://app.example.com:8443/cb'], 'https://app.example.com:9443/cb', false],
    [['http://127.0.0.1:1234/cb'], 'http://127.0.0.1:5678/cb', true],
    [['http://127.0.0.1/cb'], 'http://127.0.0.1:5678/cb', true],
    [['http://127.0.0.1/'], 'http://127.0.0.1:5678/', true],
    [['http://127.0.0.1'], 'http://127.0.0.1:5678/', true],
    [['http://[::1]/cb'], 'http://[::1]:61000/cb', true],
    [['http://localhost:3000/cb'], 'http://localhost:4000/cb', true],
    [['http://127.0.0.1:1234/cb'], 'http://127.0.0.1:5678/other', false],
    [['http://127.0.0.1:1234/cb'], 'http://localhost:1234/cb', false],
    [['http://127.0.0.1:1234/cb'], 'http://127.0.0.1:5678/cb?x=1', false],
    [['http://127.0.0.1:1234/cb'], 'http://127.0.0.1.evil.example:1234/cb', false],
    [['http://127.0.0.1:1234/cb'], 'https://127.0.0.1:1234/cb', false],
    [['cursor://anysphere.cursor-mcp/oauth/callback'], 'cursor://anysphere.cursor-mcp/oauth/callback', true],
    [['cursor://anysphere.cursor-mcp/oauth/callback'], 'cursor://anysphere.cursor-mcp/oauth/callback2', false],
    [['https://app.example.com/cb'], '', false],
    // RFC 6335 §6: an impossible port never matches, loopback port rule or not (RFC 8252 §7.3).
    [['http://127.0.0.1:1234/cb'], 'http://127.0.0.1:65536/cb', false],
    [['http://127.0.0.1:1234/cb'], 'http://127.0.0.1:99999/cb', false],
    [['http://127.0.0.1:1234/cb'], 'http://127.0.0.1:0/cb', false],
    [['http://127.0.0.1/cb'], 'http://127.0.0.1:65536/cb', false],
    [['http://localhost/cb'], 'http://localhost:00000/cb', false],
    [['http://[::1]/cb'], 'http://[::1]:65536/cb', false],
    [['http://127.0.0.1/cb'], 'http://127.0.0.1:65535/cb', true],
    [['http://127.0.0.1/cb'], 'http://127.0.0.1:1/cb', true],
    // A URI stored before the rule existed still never matches.
    [['http://127.0.0.1:0/cb'], 'http://127.0.0.1:0/cb', false],
    [['https://app.example.com:0/cb'], 'https://app.example.com:0/cb', false],
  ];
  for (const [registered, requested, expected] of cases) {
    it(`${requested || '""'} ${expected ? 'matches' : 'does not match'} ${registered.join(', ')}`, () => {
      assert.equal(redirectUriMatches(registered, requested), expected);
    });
  }
});

describe('the engine never throws on impossible ports (RFC 6335 §6)', () => {
  const hostile = [
    'http://127.0.0.1:65536/cb',
    'http://127.0.0.1:99999/cb',
    'http://127.0.0.1:0/cb',
    'http://127.0.0.1:65536',
    'http://127.0.0.1:65536?x=1',
    'http://127.0.0.1:65536\\cb',
    'http://[::1]:999999999999999999999/cb',
    'http://user:pw@127.0.0.1:65536/cb',
    'http://127.0.0.1:abc/cb',
    'http://[::1/cb',
    'not a uri',
  ];
  for (const uri of hostile) {
    it(`answers no match for ${JSON.stringify(uri)} without throwing`, () => {
      assert.equal(
        redirectUriMatches(['http://127.0.0.1/cb', 'http://127.0.0.1:8080/cb', 'http://[::1]/cb'], uri),
        false,
      );
    });
    it(`classifies ${JSON.stringify(uri)} with a RegistrationError naming it`, () => {
      assert.throws(
        () => classifyRedirectUri(uri, strict),
        (error: unknown) => {
          assert.ok(error instanceof RegistrationError);
          assert.equal(error.code, 'invalid_redirect_uri');
          assert.ok(error.message.includes(uri) || error.message.includes(JSON.stringify(uri)), error.message);
          return true;
        },
      );
    });
  }

  const ports: Array<[string, boolean]> = [
    ['http://127.0.0.1:65536/cb', true],
    ['http://127.0.0.1:0/cb', true],
    ['http://127.0.0.1:65535/cb', false],
    ['http://127.0.0.1:1/cb', false],
    ['http://127.0.0.1/cb', false],
    ['http://127.0.0.1:/cb', false],
    ['http://user:1@127.0.0.1/cb', false],
    ['http://user:1@127.0.0.1:0/cb', true],
    ['http://[::1]:0/cb', true],
    ['com.example.app:/cb', false],
    ['https://a.example/cb?next=http://b:0/', false],
  ];
  for (const [uri, impossible] of ports) {
    it(`hasImpossiblePort(${uri}) is ${impossible}`, () => assert.equal(hasImpossiblePort(uri), impossible));
  }
});

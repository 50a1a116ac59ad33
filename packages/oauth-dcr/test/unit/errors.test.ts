import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// The `oauth-dcr/errors` subpath's entry, by relative path (the package's exports map names it).
import { REGISTRATION_ERROR_CODES, RegistrationError, isRegistrationError } from '../../src/errors.js';

/** The codes RFC 7591 §3.2.2, RFC 6750 §3.1 and RFC 6749 §5.2 define: nothing else goes on the wire. */
const OAUTH_CODES = new Set([
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
  'invalid_token',
  'insufficient_scope',
  'invalid_request',
  'invalid_client',
  'server_error',
  // RFC 6749 §4.1.2.1: "temporary overloading"; answered with 429 by the rate limits.
  'temporarily_unavailable',
]);

describe('oauth-dcr/errors', () => {
  it('lists OAuth codes only', () => {
    assert.ok(REGISTRATION_ERROR_CODES.length > 0);
    for (const code of REGISTRATION_ERROR_CODES) assert.ok(OAUTH_CODES.has(code), `${code} is not an OAuth error code`);
  });

  it('gives each code its RFC status, and a Bearer challenge with 401 (RFC 6750 §3)', () => {
    assert.equal(new RegistrationError('invalid_client_metadata', 'x').status, 400);
    const token = new RegistrationError('invalid_token', 'bad "token"');
    assert.equal(token.status, 401);
    assert.equal(token.headers['WWW-Authenticate'], `Bearer error="invalid_token", error_description="bad 'token'"`);
    assert.equal(new RegistrationError('invalid_request', 'gone', { status: 404 }).status, 404);
    assert.ok(isRegistrationError(token));
    assert.deepEqual(token.toJSON(), { error: 'invalid_token', error_description: 'bad "token"' });
  });
});

/**
 * The client metadata rules (RFC 7591 §2, OIDC DCR §2) at the edges mutation testing found
 * unheld, through the registration endpoint: each row is a member a small slip in validate.ts
 * would accept when it must refuse it, or refuse when it must accept it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistration, type RegistrationOptions } from 'oauth-dcr';
import { memoryStore } from 'oauth-dcr/memory';

const ISSUER = 'https://as.example.com';
const base = { redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'none' };

function setUp(options: Partial<RegistrationOptions> = {}) {
  const store = memoryStore();
  const dcr = createRegistration({ store, issuer: ISSUER, onError: () => {}, ...options });
  async function register(body: Record<string, unknown>) {
    const response = await dcr(
      new Request(`${ISSUER}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    );
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }
  return { store, register };
}

const ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const MORE_ALGS = ['ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA', 'Ed25519', 'none'];
const long = (n: number) => 'a'.repeat(n);
const contacts = (n: number) => Array.from({ length: n }, (_, i) => `c${i}@example.com`);

describe('client metadata accepted', () => {
  const accepted: Array<[string, Record<string, unknown>, Partial<RegistrationOptions>?]> = [
    ...[...ALGS, ...MORE_ALGS].map((alg): [string, Record<string, unknown>] => [
      `id_token_signed_response_alg ${alg} (RFC 7518 §3.1)`,
      { id_token_signed_response_alg: alg },
    ]),
    ['client_name null, as not sent', { client_name: null }],
    ['default_max_age 0', { default_max_age: 0 }],
    ['require_auth_time true', { require_auth_time: true }],
    ['client_name of 256 characters', { client_name: long(256) }],
    ['scope of 2048 characters', { scope: `a ${long(2046)}` }],
    ['16 contacts', { contacts: contacts(16) }],
    ['request_uris over https', { request_uris: ['https://app.example.com/request'] }],
    [
      'pairwise with every redirect on one host',
      { subject_type: 'pairwise', redirect_uris: ['https://a.example/1', 'https://a.example/2'] },
    ],
    [
      'a web client using the implicit grant with an https redirect',
      { application_type: 'web', grant_types: ['implicit'], response_types: ['token'] },
      { allowedGrantTypes: ['authorization_code', 'implicit'] },
    ],
  ];
  for (const [name, extra, options] of accepted) {
    it(name, async () => {
      const { status, body } = await setUp(options).register({ ...base, ...extra });
      assert.equal(status, 201, JSON.stringify(body));
    });
  }

  it('a member sent as null is not echoed', async () => {
    const { body } = await setUp().register({ ...base, client_name: null });
    assert.equal('client_name' in body, false);
  });

  it('no scope and no redirect_uris sent: none stored, not even undefined', async () => {
    const { store, register } = setUp({ allowedGrantTypes: ['client_credentials'] });
    const { status, body } = await register({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    assert.equal(status, 201, JSON.stringify(body));
    const record = await store.findClient(body.client_id);
    assert.ok(record);
    assert.equal('scope' in record.metadata, false);
    assert.equal('redirect_uris' in record.metadata, false);
  });

  it('no scope asked and no default: none registered', async () => {
    const { store, register } = setUp();
    const { body } = await register(base);
    assert.equal(body.scope, undefined);
    const record = await store.findClient(body.client_id);
    assert.equal(record && 'scope' in record.metadata, false);
  });
});

describe('client metadata refused (RFC 7591 §3.2.2)', () => {
  const refused: Array<[string, Record<string, unknown>, string, RegExp, Partial<RegistrationOptions>?]> = [
    [
      'an unknown algorithm',
      { id_token_signed_response_alg: 'HS257' },
      'invalid_client_metadata',
      /supported JWS algorithm/,
    ],
    [
      'an algorithm that is not a string',
      { id_token_signed_response_alg: 256 },
      'invalid_client_metadata',
      /must be a supported JWS algorithm \(RFC 7518 §3\.1\), got 256/,
    ],
    ['a scope value with a quote at its end', { scope: 'read"' }, 'invalid_client_metadata', /not a valid scope value/],
    [
      'a scope value with a quote at its start',
      { scope: '"read' },
      'invalid_client_metadata',
      /not a valid scope value/,
    ],
    [
      'a scope of 2049 characters',
      { scope: `a ${long(2047)}` },
      'invalid_client_metadata',
      /scope must be at most 2048 characters/,
    ],
    [
      'client_name of 257 characters',
      { client_name: long(257) },
      'invalid_client_metadata',
      /client_name must be at most 256 characters/,
    ],
    ['an empty client_name', { client_name: '' }, 'invalid_client_metadata', /client_name must not be empty/],
    ['17 contacts', { contacts: contacts(17) }, 'invalid_client_metadata', /contacts must have at most 16 entries/],
    [
      'a negative default_max_age',
      { default_max_age: -1 },
      'invalid_client_metadata',
      /default_max_age must be a non-negative integer/,
    ],
    ['a fractional default_max_age', { default_max_age: 1.5 }, 'invalid_client_metadata', /non-negative integer/],
    ['default_max_age as text', { default_max_age: '5' }, 'invalid_client_metadata', /non-negative integer/],
    [
      'require_auth_time as text',
      { require_auth_time: 'yes' },
      'invalid_client_metadata',
      /require_auth_time must be true or false/,
    ],
    [
      'an application_type not listed',
      { application_type: 'desktop' },
      'invalid_client_metadata',
      /application_type must be one of 'web', 'native', got 'desktop'/,
    ],
    ['jwks as an array', { jwks: [] }, 'invalid_client_metadata', /must be a JWK Set/],
    ['jwks as text', { jwks: 'keys' }, 'invalid_client_metadata', /must be a JWK Set/],
    ['jwks without keys', { jwks: {} }, 'invalid_client_metadata', /must be a JWK Set/],
    ['jwks whose keys is no array', { jwks: { keys: 'x' } }, 'invalid_client_metadata', /must be a JWK Set/],
    [
      'client_uri with a user name',
      { client_uri: 'https://user@app.example.com/' },
      'invalid_client_metadata',
      /client_uri must not contain credentials: https:\/\/user@app\.example\.com\//,
    ],
    [
      'client_uri with a password',
      { client_uri: 'https://:pw@app.example.com/' },
      'invalid_client_metadata',
      /must not contain credentials/,
    ],
    [
      'request_uris over http',
      { request_uris: ['http://app.example.com/request'] },
      'invalid_client_metadata',
      /request_uris\[0\] must use https/,
    ],
    [
      'request_uris not an array',
      { request_uris: 'https://app.example.com/request' },
      'invalid_client_metadata',
      /request_uris must be an array/,
    ],
    [
      'jwks_uri over http',
      { jwks_uri: 'http://app.example.com/jwks' },
      'invalid_client_metadata',
      /jwks_uri must use https/,
    ],
    [
      'a post-logout redirect to javascript:',
      { post_logout_redirect_uris: ['javascript:alert(1)'] },
      'invalid_redirect_uri',
      /scheme 'javascript'/,
    ],
    [
      'a post-logout redirect over http',
      { post_logout_redirect_uris: ['http://app.example.com/bye'] },
      'invalid_redirect_uri',
      /HTTPS required/,
    ],
    [
      'pairwise across hosts without sector_identifier_uri (OIDC Core §8.1)',
      { subject_type: 'pairwise', redirect_uris: ['https://a.example/cb', 'https://b.example/cb'] },
      'invalid_client_metadata',
      /requires sector_identifier_uri/,
    ],
    [
      'a web client using the implicit grant with a loopback redirect (OIDC DCR §2)',
      {
        application_type: 'web',
        grant_types: ['implicit'],
        response_types: ['token'],
        redirect_uris: ['http://127.0.0.1/cb'],
      },
      'invalid_redirect_uri',
      /^Web clients using the implicit grant must not redirect to loopback: http:\/\/127\.0\.0\.1\/cb$/,
      { allowedGrantTypes: ['authorization_code', 'implicit'] },
    ],
    [
      'an auth method the deployment does not support, naming those it does',
      { token_endpoint_auth_method: 'client_secret_jwt' },
      'invalid_client_metadata',
      /'client_secret_jwt' is not supported \(supported: none, client_secret_basic\)$/,
      { tokenEndpointAuthMethods: ['none', 'client_secret_basic'] },
    ],
  ];
  for (const [name, extra, error, description, options] of refused) {
    it(name, async () => {
      const { status, body } = await setUp(options).register({ ...base, ...extra });
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(body.error, error);
      assert.match(body.error_description, description);
    });
  }
});

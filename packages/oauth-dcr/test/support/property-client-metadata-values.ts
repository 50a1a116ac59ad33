/**
 * Values for the metadata property's bodies: RFC 7591 §2 / OIDC DCR §2 field names and names
 * beyond them, strings that broke parsers and databases, redirect URI forms, real public keys, and
 * for each field a plausible value or junk of any JSON type.
 */
import fc from 'fast-check';

export const METADATA_FIELDS = [
  'redirect_uris',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'scope',
  'contacts',
  'tos_uri',
  'policy_uri',
  'jwks_uri',
  'jwks',
  'software_id',
  'software_version',
  'application_type',
  'subject_type',
  'sector_identifier_uri',
  'id_token_signed_response_alg',
  'userinfo_signed_response_alg',
  'request_object_signing_alg',
  'token_endpoint_auth_signing_alg',
  'default_max_age',
  'require_auth_time',
  'default_acr_values',
  'initiate_login_uri',
  'request_uris',
  'post_logout_redirect_uris',
] as const;

/** Names beyond the table: prototype keys, language tags, look-alikes, server-issued fields. */
export const ODD_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'client_name#ja-Jpan-JP',
  'client_name#',
  'client_name#en#x',
  'tos_uri#de',
  'logo_uri#fr',
  'client_id',
  'client_secret',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
  'software_statement',
  'redirect_uri',
  'Redirect_Uris',
  'redirect_uris\u0000',
  'scope ',
  '',
];

/** Strings that broke parsers, normalisers and databases. */
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ufeffname',
  '\u202egnp.exe',
  'İstanbul',
  'ß',
  'e\u0301',
  '👩‍💻',
  '\u200b',
  '\r\n',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '%00',
  '%ZZ',
  '$' + '{jndi:ldap://x}',
  'null',
  'undefined',
  '[object Object]',
];

/** URL-ish values for the URI fields, redirect URIs above all (RFC 8252, RFC 9700 §4.1). */
export const URI_STRINGS = [
  'https://app.example/cb',
  'https://app.example:8443/cb?x=1',
  'https://app.example/cb#frag',
  'https://user:pass@app.example/cb',
  'HTTPS://APP.EXAMPLE/CB',
  'https://xn--nxasmq6b.example/cb',
  'https://ünïcode.example/cb',
  'https://app.example/c%20b',
  'https://app.example/c b',
  'https://[::1]/cb',
  'https://app.example\\@evil.example/cb',
  'http://127.0.0.1/cb',
  'http://127.0.0.1:33418/callback',
  'http://[::1]:8080/cb',
  'http://localhost/cb',
  'http://localhost.evil.example/cb',
  'http://example.com:8080/cb',
  'http://0x7f.1/cb',
  'com.example.app:/oauth2redirect',
  'cursor://anysphere.cursor-mcp/oauth/callback',
  'javascript:alert(1)',
  'data:text/html,x',
  'file:///etc/passwd',
  'urn:ietf:wg:oauth:2.0:oob',
  '//app.example/cb',
  '/cb',
  'https://',
  'https:/app.example',
  `https://app.example/${'a'.repeat(3000)}`,
];

/** Public keys as clients publish them (RFC 7517 §4), generated once for these tests. */
const PUBLIC_JWKS: readonly Record<string, unknown>[] = [
  {
    kty: 'EC',
    crv: 'P-256',
    x: 'xfbyPcucoXi-obgOnLpSFqWqSBxWMYr-e6koyZtAjpU',
    y: 'Gu36YXN_9uUZ8npWuuatCZpORDFil4KrgvNmdmTavLg',
  },
  { kty: 'OKP', crv: 'Ed25519', x: '9QGWx5TRYamucV-zbBsXRNTozFSdIfxAZsO285IzmSI' },
];

export const nastyString = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** A value of any JSON type, biased to what validators mistake for one another. */
export const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom(0, -1, 1.5, 1e308, 2 ** 53 + 1, -2147483649, 86400),
  nastyString,
  fc.constantFrom(...URI_STRINGS),
  fc.constant({}),
  fc.constant([]),
  fc.array(fc.oneof(fc.constant(null), nastyString, fc.integer()), { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom('a', '__proto__', 'keys', '0'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

/** A plausible value for a field, or junk. */
export function valueFor(field: string): fc.Arbitrary<unknown> {
  const uri = fc.constantFrom(...URI_STRINGS);
  const plausible: Record<string, fc.Arbitrary<unknown>> = {
    redirect_uris: fc.array(uri, { minLength: 0, maxLength: 4 }),
    post_logout_redirect_uris: fc.array(uri, { maxLength: 3 }),
    request_uris: fc.array(uri, { maxLength: 3 }),
    grant_types: fc.array(
      fc.constantFrom(
        'authorization_code',
        'refresh_token',
        'client_credentials',
        'implicit',
        'password',
        'urn:ietf:params:oauth:grant-type:device_code',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
        'AUTHORIZATION_CODE',
      ),
      { maxLength: 4 },
    ),
    response_types: fc.array(fc.constantFrom('code', 'token', 'id_token', 'code id_token', 'none', ''), {
      maxLength: 3,
    }),
    token_endpoint_auth_method: fc.constantFrom(
      'none',
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'client_secret_jwt',
      'tls_client_auth',
      'None',
    ),
    application_type: fc.constantFrom('web', 'native', 'Web', 'desktop'),
    scope: fc.constantFrom('openid', 'openid profile', 'claudeai', '  ', 'a\tb', 'offline_access mcp:tools'),
    contacts: fc.array(fc.constantFrom('ops@example.com', 'not an email', ''), { maxLength: 3 }),
    default_max_age: fc.constantFrom(0, 60, -5, 3.5, 2 ** 31),
    require_auth_time: fc.boolean(),
    jwks: fc.oneof(
      fc.constantFrom({ keys: [] }, { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }] }, { keys: {} }),
      // Real public keys, with members a key may carry (RFC 7517 §4), junk among them.
      fc
        .tuple(
          fc.constantFrom(...PUBLIC_JWKS),
          fc.dictionary(fc.constantFrom('use', 'kid', 'alg', 'key_ops', 'x5c', 'ext'), junkValue, { maxKeys: 2 }),
          fc.dictionary(fc.constantFrom('extra', 'note'), junkValue, { maxKeys: 1 }),
        )
        .map(([key, members, setMembers]) => ({ keys: [{ ...key, ...members }], ...setMembers })),
    ),
    subject_type: fc.constantFrom('public', 'pairwise'),
    default_acr_values: fc.array(nastyString, { maxLength: 2 }),
  };
  const own = Object.hasOwn(plausible, field) ? plausible[field]! : field.endsWith('_uri') ? uri : nastyString;
  return fc.oneof({ weight: 3, arbitrary: own }, { weight: 1, arbitrary: junkValue });
}

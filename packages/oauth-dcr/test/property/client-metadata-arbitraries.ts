/**
 * Registration bodies for the property tests: real clients' verbatim payloads
 * (test/fixtures/clients) mutated the ways hand fuzzing broke servers (fields dropped, repeated,
 * retyped or nulled; odd Unicode; huge values; nested junk; broken JSON text), and metadata
 * generated from scratch over the RFC 7591 §2 / OIDC DCR §2 fields. Every case is the JSON text
 * sent, so a counterexample is kept and replayed byte for byte.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';

const FIXTURES = new URL('../fixtures/clients/', import.meta.url);

/** The real clients' bodies, in file order. */
export const FIXTURE_BODIES: readonly Record<string, unknown>[] = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => (JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as { body: Record<string, unknown> }).body);

/** RFC 7591 §2 and OpenID Connect DCR §2 client metadata names. */
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
const ODD_NAMES = [
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
const URI_STRINGS = [
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

const nastyString = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** A value of any JSON type, biased to what validators mistake for one another. */
const junkValue: fc.Arbitrary<unknown> = fc.oneof(
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
function valueFor(field: string): fc.Arbitrary<unknown> {
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

type Edit = (body: Record<string, unknown>) => void;

const fieldName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...METADATA_FIELDS) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_NAMES) },
);

/** One mutation of a body object (applied in place, on a copy). */
const harshEdit: fc.Arbitrary<Edit> = fc.oneof(
  // drop a field the client sent
  fc.nat().map((n) => (body: Record<string, unknown>) => {
    const keys = Object.keys(body);
    if (keys.length > 0) delete body[keys[n % keys.length]!];
  }),
  // set any field, known or odd, to a plausible value or junk
  fieldName.chain((field) =>
    valueFor(field).map((value) => (body: Record<string, unknown>) => setOwn(body, field, value)),
  ),
  // null in place of a value the client sent
  fc.nat().map((n) => (body: Record<string, unknown>) => {
    const keys = Object.keys(body);
    if (keys.length > 0) body[keys[n % keys.length]!] = null;
  }),
  // an array the client sent gets a member dropped, repeated, retyped or added
  fc
    .tuple(
      fc.nat(),
      fc.nat(),
      fc.constantFrom('drop', 'repeat', 'retype', 'add'),
      junkValue,
      fc.constantFrom(...URI_STRINGS),
    )
    .map(([k, i, how, junk, uri]) => (body: Record<string, unknown>) => {
      const arrays = Object.keys(body).filter((key) => Array.isArray(body[key]));
      if (arrays.length === 0) return;
      const list = [...(body[arrays[k % arrays.length]!] as unknown[])];
      const at = list.length === 0 ? 0 : i % list.length;
      if (how === 'drop') list.splice(at, 1);
      else if (how === 'repeat' && list.length > 0) list.push(list[at]);
      else if (how === 'retype') list[at] = junk;
      else list.push(arrays[k % arrays.length] === 'redirect_uris' ? uri : junk);
      body[arrays[k % arrays.length]!] = list;
    }),
  // huge values: a long string, a long list (past the 64 KiB body cap, sometimes)
  fc
    .tuple(fieldName, fc.constantFrom(1000, 20_000, 20_000, 70_000))
    .map(([field, size]) => (body: Record<string, unknown>) => {
      setOwn(
        body,
        field,
        field.endsWith('s')
          ? Array.from({ length: size / 100 }, (_, n) => `https://app.example/${n}`)
          : 'x'.repeat(size),
      );
    }),
  // nested junk
  fc.tuple(fieldName, fc.jsonValue({ maxDepth: 6 })).map(([field, value]) => (body: Record<string, unknown>) => {
    setOwn(body, field, { nested: value, list: [value, [value]] });
  }),
);

/**
 * The same redirect URI in other bytes: a URL parser would rewrite each of these, and RFC 7591 §2
 * / RFC 6749 §3.1.2 compare redirect URIs as strings, so each must come back exactly as sent.
 */
const SPELLINGS: readonly ((uri: string) => string)[] = [
  (uri) => uri.replace(/^(\w+:\/\/)([^/:]+)/, (_, scheme: string, host: string) => scheme + host.toUpperCase()),
  (uri) => uri.replace(/^https:\/\/([^/:]+)\//, 'https://$1:443/'),
  (uri) => uri.replace(/^http:\/\/([^/:]+)\//, 'http://$1:80/'),
  (uri) => `${uri}?`,
  (uri) => uri.replace(/\/([^/]*)$/, '/./$1'),
  (uri) => `${uri}%7e`,
  (uri) => uri.replace(/^(\w+):/, (scheme: string) => scheme.toUpperCase()),
];

/** Edits a validator should take in its stride: odd but legal names, unknown extensions. */
const mildEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom(...SPELLINGS)).map(([n, spell]) => (body: Record<string, unknown>) => {
    const uris = body.redirect_uris;
    if (!Array.isArray(uris) || uris.length === 0 || typeof uris[n % uris.length] !== 'string') return;
    const copy = [...uris];
    copy[n % copy.length] = spell(copy[n % copy.length] as string);
    body.redirect_uris = copy;
  }),
  fc
    .tuple(fc.constantFrom('client_name', 'client_name#ja-Jpan-JP', 'software_version', 'software_id'), nastyString)
    .map(
      ([field, value]) =>
        (body: Record<string, unknown>) =>
          setOwn(body, field, value),
    ),
  fc.tuple(fc.string({ maxLength: 12 }), junkValue).map(([field, value]) => (body: Record<string, unknown>) => {
    if (!(METADATA_FIELDS as readonly string[]).includes(field)) setOwn(body, field, value);
  }),
  fc
    .constantFrom('client_uri', 'logo_uri', 'scope', 'contacts', 'application_type', 'client_name')
    .map((field) => (body: Record<string, unknown>) => {
      delete body[field];
    }),
);

const edit: fc.Arbitrary<Edit> = fc.oneof({ weight: 1, arbitrary: mildEdit }, { weight: 2, arbitrary: harshEdit });

function setOwn(body: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Edits on the JSON text itself: a repeated key, truncation, a BOM, trailing bytes, deep nesting. */
type TextEdit = (text: string) => string;
const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.tuple(fieldName, junkValue).map(
    ([field, value]) =>
      (text: string) =>
        text.startsWith('{') && text.length > 2
          ? `{${JSON.stringify(field)}:${JSON.stringify(value) ?? 'null'},${text.slice(1)}`
          : text,
  ),
  fc.nat().map((n) => (text: string) => text.slice(0, n % (text.length + 1))),
  fc.constant((text: string) => `\ufeff${text}`),
  fc.constantFrom(' x', '}', ',', '\u0000', '\n{"a":1}').map((tail) => (text: string) => text + tail),
  fc
    .constantFrom(10, 2000)
    .map(
      (depth) => (text: string) =>
        text.startsWith('{') ? `{"client_name":${'['.repeat(depth)}${']'.repeat(depth)},${text.slice(1)}` : text,
    ),
);

/** A real client's body with 1-3 edits, and sometimes a text edit: the JSON text sent. */
export const mutatedFixtureBody: fc.Arbitrary<string> = fc
  .tuple(
    fc.nat({ max: FIXTURE_BODIES.length - 1 }),
    fc.array(edit, { minLength: 1, maxLength: 3 }),
    fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: textEdit }),
  )
  .map(([index, edits, textMutation]) => {
    const body = structuredClone(FIXTURE_BODIES[index]!);
    for (const apply of edits) apply(body);
    const text = JSON.stringify(body);
    return textMutation ? textMutation(text) : text;
  });

/** Metadata generated from the field names alone: any subset, plausible values and junk. */
export const generatedBody: fc.Arbitrary<string> = fc
  .uniqueArray(fieldName, { minLength: 0, maxLength: 10 })
  .chain((fields) => fc.tuple(...fields.map((field) => valueFor(field).map((value) => [field, value] as const))))
  .map((entries) => {
    const body: Record<string, unknown> = {};
    for (const [field, value] of entries) setOwn(body, field, value);
    return JSON.stringify(body);
  });

/** What the property tests send: mostly mutated real payloads, some generated ones. */
export const registrationBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: mutatedFixtureBody },
  { weight: 1, arbitrary: generatedBody },
);

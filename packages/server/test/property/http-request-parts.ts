/**
 * The parts of the HTTP surface property's requests: placeholders, junk values, parameters per
 * endpoint, headers (content types, Basic and Bearer credentials) and bodies (form and JSON,
 * broken encodings, repeated parameters, huge, empty, NUL). `{{name}}` placeholders stand for what
 * the running server issued (client ids, secrets, tokens, a signed-in session), filled in when the
 * case is sent (see http-surface.test.ts).
 */
import fc from 'fast-check';
import { registrationBody } from '../../../oauth-dcr/test/support/property-client-metadata.js';

export interface HttpCase {
  method: string;
  /** Path and query, with placeholders. */
  path: string;
  /** Header name and value pairs, with placeholders; a name may repeat. */
  headers: [string, string][];
  /** Text (placeholders filled in, sent as UTF-8), or raw bytes in hex (sent as they are). */
  body?: { text: string } | { hex: string };
}

/** What the server issued during set-up, by placeholder name. */
export const PLACEHOLDERS = [
  'public_client',
  'confidential_client',
  'confidential_secret',
  'managed_client',
  'managed_token',
  'access_token',
  'refresh_token',
  'basic_credentials',
  'session_cookie',
  'public_redirect',
  'confidential_redirect',
  'pkce_challenge',
  'document_client',
  'document_broken',
  'document_mismatch',
  'document_html',
  'document_missing',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export const ph = (name: Placeholder) => `{{${name}}}`;

export const junkText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '%00',
    '%',
    '%ZZ',
    '%E0%A4%A',
    '%C3%28',
    '\ud800',
    '\u202e',
    '👩‍💻',
    '<script>alert(1)</script>',
    "'; DROP TABLE clients; --",
    'null',
    '[]',
    '{}',
    'undefined',
    '__proto__',
    'a'.repeat(5000),
    'https://attacker.example/cb',
    'javascript:alert(1)',
    'http://127.0.0.1:7777/callback',
  ),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ maxLength: 30 }),
);

const placeholderValue = fc.constantFrom(...PLACEHOLDERS).map(ph);
export const value = fc.oneof({ weight: 3, arbitrary: placeholderValue }, { weight: 2, arbitrary: junkText });

/** Parameter names per endpoint (RFC 6749, RFC 7009, RFC 7662, RFC 7636, RFC 8707, RFC 7523). */
export const AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'scope',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'prompt',
  'nonce',
  'request',
  'request_uri',
  'response_mode',
];
export const TOKEN_PARAMS = [
  'grant_type',
  'code',
  'code_verifier',
  'redirect_uri',
  'refresh_token',
  'client_id',
  'client_secret',
  'client_assertion_type',
  'client_assertion',
  'scope',
  'resource',
  'username',
  'password',
];
const TOKEN_PARAM_VALUES: Record<string, readonly string[]> = {
  grant_type: [
    'authorization_code',
    'refresh_token',
    'client_credentials',
    'password',
    'urn:ietf:params:oauth:grant-type:jwt-bearer',
    'urn:ietf:params:oauth:grant-type:device_code',
  ],
  response_type: ['code', 'token', 'code id_token', 'none'],
  code_challenge_method: ['S256', 'plain', 's256'],
  client_assertion_type: ['urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
  client_assertion: ['eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.', 'a.b.c', 'eyJ.eyJ.sig'],
  token_type_hint: ['access_token', 'refresh_token', 'registration_access_token'],
  prompt: ['none', 'login', 'consent'],
  decision: ['approve', 'deny'],
};
export const SIGN_IN_PARAMS = ['username', 'password', 'csrf', 'request_id', 'decision', 'return_to', 'client_id'];
export const TOKEN_HOLDER_PARAMS = [
  'token',
  'token_type_hint',
  'client_id',
  'client_secret',
  'client_assertion_type',
  'client_assertion',
];

function paramValue(name: string): fc.Arbitrary<string> {
  const own = Object.hasOwn(TOKEN_PARAM_VALUES, name) ? TOKEN_PARAM_VALUES[name] : undefined;
  return own ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...own) }, { weight: 2, arbitrary: value }) : value;
}

/** Name and value pairs: mostly the endpoint's own names, some repeated, some strangers. */
function params(names: readonly string[]): fc.Arbitrary<[string, string][]> {
  const name = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: junkText });
  return fc.array(
    name.chain((n) => paramValue(n).map((v) => [n, v] as [string, string])),
    { maxLength: 9 },
  );
}

/** Encodes pairs as a query or form: properly, or raw (broken percent-encodings left as they are). */
function encode(pairs: [string, string][], raw: boolean): string {
  if (!raw) return new URLSearchParams(pairs).toString();
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

export const encodedParams = (names: readonly string[]) =>
  fc.tuple(params(names), fc.boolean()).map(([pairs, raw]) => encode(pairs, raw));

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=UTF-8',
  'application/x-www-form-urlencoded; charset=latin1',
  'application/json',
  'application/json; charset=utf-16',
  'application/jwt',
  'text/plain',
  'text/html',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded, application/json',
  '',
  '*/*',
  ';;;',
];

const authorization = fc.oneof(
  fc.constant(`Basic ${ph('basic_credentials')}`),
  fc.constantFrom(
    `Bearer ${ph('access_token')}`,
    `Bearer ${ph('refresh_token')}`,
    `Bearer ${ph('managed_token')}`,
    `bearer ${ph('access_token')}`,
    `Bearer  ${ph('access_token')}`,
    'Basic',
    'Basic ',
    'Basic %%%',
    'Basic Og==',
    'Basic OjpfOg==',
    'Basic YTpi',
    'Basic JUZGOiVGRg==',
    'Basic AA==',
    'Bearer',
    'Bearer ',
    'Bearer a b',
    'Digest username="x"',
    'DPoP x',
  ),
  fc.tuple(fc.constantFrom('Basic ', 'Bearer '), junkText).map(([scheme, junk]) => scheme + junk),
  fc
    .tuple(junkText, junkText)
    .map(([id, secret]) => `Basic ${Buffer.from(`${id}:${secret}`, 'utf8').toString('base64')}`),
);

/** Header values are Latin-1 on the wire: anything else is replaced, as a client library would refuse it. */
const headerSafe = (text: string) => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

export const headers: fc.Arbitrary<[string, string][]> = fc
  .tuple(
    fc.option(fc.oneof(fc.constantFrom(...CONTENT_TYPES), junkText.map(headerSafe)), { freq: 4 }),
    fc.array(authorization.map(headerSafe), { maxLength: 2 }),
    fc.option(
      fc.constantFrom(`session=${ph('session_cookie')}`, ph('session_cookie'), 'session=junk; a=b', 'x'.repeat(5000)),
      {
        freq: 3,
      },
    ),
    fc.array(
      fc.tuple(
        fc.constantFrom('origin', 'accept', 'x-forwarded-for', 'x-forwarded-proto', 'host', 'dpop', 'accept-encoding'),
        fc.oneof(
          fc.constantFrom('https://evil.example', 'null', '1.2.3.4, 10.0.0.1', 'application/json', '*/*'),
          junkText.map(headerSafe),
        ),
      ),
      { maxLength: 2 },
    ),
  )
  .map(([contentType, auths, cookie, extra]) => {
    const out: [string, string][] = [];
    if (contentType !== null) out.push(['content-type', contentType]);
    for (const auth of auths) out.push(['authorization', auth]);
    if (cookie !== null) out.push(['cookie', cookie]);
    // A Host no URL can be built from is the parser's business, not the application's: kept valid.
    for (const [name, text] of extra)
      out.push([name, name === 'host' ? `${text.replace(/[^a-z0-9.:-]/gi, '')}x` : text]);
    return out;
  });

const brokenBytes = fc.oneof(
  fc.constantFrom('ff', 'fffe', 'c328', 'e0a4', 'f09f98', '00', '7b22613a00227d', 'efbbbf7b7d', 'c0af'),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('hex')),
);

export function body(names: readonly string[]): fc.Arbitrary<HttpCase['body']> {
  return fc.oneof(
    { weight: 4, arbitrary: encodedParams(names).map((text) => ({ text })) },
    { weight: 2, arbitrary: registrationBody.map((text) => ({ text })) },
    {
      weight: 1,
      arbitrary: params(names).map((pairs) => ({ text: JSON.stringify(Object.fromEntries(pairs)) })),
    },
    { weight: 1, arbitrary: brokenBytes.map((hex) => ({ hex })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('', '\u0000', '{', '[]', 'null', 'a=1&a=2&a', '&&&=&=', 'x'.repeat(300_000))
        .map((text) => ({ text })),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

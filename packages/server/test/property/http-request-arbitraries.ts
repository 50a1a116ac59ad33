/**
 * Requests for the HTTP surface property: every endpoint of the reference server, with generated
 * methods, paths, queries, headers and bodies (form and JSON, broken encodings, repeated
 * parameters, huge, empty, NUL). A case is plain data, so a failure is kept in a seed file and
 * replayed as it is; `{{name}}` placeholders stand for what the running server issued (client ids,
 * secrets, tokens, a signed-in session), filled in when the case is sent (see http-surface.test.ts).
 */
import fc from 'fast-check';
import { registrationBody } from '../../../oauth-dcr/test/property/client-metadata-arbitraries.js';

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

const ph = (name: Placeholder) => `{{${name}}}`;

const junkText = fc.oneof(
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
const value = fc.oneof({ weight: 3, arbitrary: placeholderValue }, { weight: 2, arbitrary: junkText });

/** Parameter names per endpoint (RFC 6749, RFC 7009, RFC 7662, RFC 7636, RFC 8707, RFC 7523). */
const AUTHORIZE_PARAMS = [
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
const TOKEN_PARAMS = [
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
const SIGN_IN_PARAMS = ['username', 'password', 'csrf', 'request_id', 'decision', 'return_to', 'client_id'];
const TOKEN_HOLDER_PARAMS = [
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

const encodedParams = (names: readonly string[]) =>
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

const headers: fc.Arbitrary<[string, string][]> = fc
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

function body(names: readonly string[]): fc.Arbitrary<HttpCase['body']> {
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

/**
 * Well-formed requests, one mutation at most away from what a real client sends: the right
 * content type and credentials, parameters with the values the server issued. Without them the
 * generated requests would stop at the first check of each endpoint.
 */
const PLAUSIBLE: Record<string, readonly string[]> = {
  grant_type: ['authorization_code', 'refresh_token', 'client_credentials'],
  code: ['not-a-code', ph('access_token')],
  code_verifier: ['dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', ''],
  redirect_uri: [
    ph('public_redirect'),
    ph('confidential_redirect'),
    'http://127.0.0.1:7778/callback',
    'https://app.example/cb/',
  ],
  refresh_token: [ph('refresh_token')],
  client_id: [
    ph('public_client'),
    ph('confidential_client'),
    ph('document_client'),
    ph('document_broken'),
    ph('document_mismatch'),
    ph('document_html'),
    ph('document_missing'),
  ],
  client_secret: [ph('confidential_secret'), 'wrong'],
  token: [ph('access_token'), ph('refresh_token'), ph('managed_token')],
  token_type_hint: ['access_token', 'refresh_token'],
  response_type: ['code'],
  state: ['xyz', ''],
  scope: ['openid', 'mcp:tools', 'claudeai', 'offline_access'],
  code_challenge: [ph('pkce_challenge'), 'short'],
  code_challenge_method: ['S256'],
  resource: ['https://mcp.example/mcp', 'not a uri', 'https://mcp.example/#frag'],
  prompt: ['none', 'login'],
  username: ['alice'],
  password: ['correct horse battery staple', 'wrong'],
  decision: ['approve', 'deny'],
};

function plausibleParams(required: readonly string[], optional: readonly string[]): fc.Arbitrary<string> {
  const entry = (name: string) =>
    fc
      .oneof({ weight: 6, arbitrary: fc.constantFrom(...(PLAUSIBLE[name] ?? [''])) }, { weight: 1, arbitrary: value })
      .map((v) => [name, v] as [string, string]);
  return fc
    .tuple(
      fc.tuple(...required.map(entry)),
      fc.uniqueArray(fc.constantFrom(...optional), { maxLength: 4 }).chain((names) => fc.tuple(...names.map(entry))),
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom(...required, ...optional) },
      ),
    )
    .map(([must, may, repeated]) => {
      const pairs = [...must, ...may];
      // Sometimes a parameter twice (RFC 6749 §3.1: MUST NOT be included more than once).
      if (repeated !== null) pairs.push([repeated, PLAUSIBLE[repeated]?.[0] ?? 'x']);
      return new URLSearchParams(pairs).toString();
    });
}

/** A client and a redirect URI it registered (a loopback one on any port, RFC 8252 §7.3), or one it did not. */
const CLIENT_AND_REDIRECT: readonly [string, string][] = [
  [ph('public_client'), ph('public_redirect')],
  [ph('confidential_client'), ph('confidential_redirect')],
  [ph('document_client'), 'http://127.0.0.1:51234/callback'],
  [ph('document_client'), 'http://localhost/callback'],
  [ph('document_broken'), 'http://127.0.0.1/callback'],
  [ph('document_mismatch'), 'http://127.0.0.1/callback'],
  [ph('document_html'), 'http://127.0.0.1/callback'],
  [ph('document_missing'), 'http://127.0.0.1/callback'],
  // A registered client with a redirect URI it did not register: never redirected to.
  [ph('public_client'), 'https://attacker.example/cb'],
  [ph('public_client'), 'http://127.0.0.1.attacker.example:7777/callback'],
  [ph('confidential_client'), ph('public_redirect')],
  [ph('confidential_client'), 'https://app.example/cb/../evil'],
  [ph('document_client'), 'https://attacker.example/callback'],
];

const FORM = ['content-type', 'application/x-www-form-urlencoded'] as [string, string];
const JSON_TYPE = ['content-type', 'application/json'] as [string, string];
const basic = ['authorization', `Basic ${ph('basic_credentials')}`] as [string, string];
const managedBearer = ['authorization', `Bearer ${ph('managed_token')}`] as [string, string];

/** How the confidential client authenticates (RFC 6749 §2.3.1): headers, and what the form gets. */
const clientAuthentication = fc.constantFrom<[[string, string][], string]>(
  [[FORM, basic], ''],
  [[FORM], `&client_id=${ph('confidential_client')}&client_secret=${ph('confidential_secret')}`],
  [[FORM], `&client_id=${ph('public_client')}`],
  [[FORM], ''],
);

/** A registration body with the managed client's id first, as an RFC 7592 §2.2 update carries it. */
const updateBody = registrationBody.map((text) =>
  text.startsWith('{') && text.length > 2 ? `{"client_id":"${ph('managed_client')}",${text.slice(1)}` : text,
);

/** A token request (RFC 6749 §4.1.3, §6), twice as likely as the other well-formed cases. */
const tokenCase: fc.Arbitrary<HttpCase> = fc
  .tuple(
    plausibleParams(['grant_type'], ['code', 'code_verifier', 'redirect_uri', 'refresh_token', 'scope', 'resource']),
    clientAuthentication,
  )
  .map(([text, [headers, extra]]) => ({ method: 'POST', path: '/token', headers, body: { text: text + extra } }));

const plausibleCase: fc.Arbitrary<HttpCase> = fc.oneof<fc.Arbitrary<HttpCase>[]>(
  registrationBody.map((text) => ({ method: 'POST', path: '/register', headers: [JSON_TYPE], body: { text } })),
  fc.constantFrom('GET', 'DELETE').map((method) => ({
    method,
    path: `/register/${ph('managed_client')}`,
    headers: [managedBearer],
  })),
  updateBody.map((text) => ({
    method: 'PUT',
    path: `/register/${ph('managed_client')}`,
    headers: [JSON_TYPE, managedBearer],
    body: { text },
  })),
  fc.constant({ method: 'POST', path: `/register/${ph('managed_client')}/secret`, headers: [managedBearer] }),
  fc
    .tuple(
      plausibleParams(
        ['response_type', 'code_challenge', 'code_challenge_method'],
        ['state', 'scope', 'resource', 'prompt'],
      ),
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...CLIENT_AND_REDIRECT) },
        { weight: 1, arbitrary: fc.tuple(value, value) },
      ),
      fc.boolean(),
    )
    .map(([query, [clientId, redirectUri], signedIn]) => ({
      method: 'GET',
      path: `/authorize?${new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri })}&${query}`,
      headers: signedIn ? [['cookie', ph('session_cookie')] as [string, string]] : [],
    })),
  plausibleParams(['username', 'password'], ['client_id', 'state']).map((text) => ({
    method: 'POST',
    path: '/authorize/login',
    headers: [FORM],
    body: { text },
  })),
  tokenCase,
  tokenCase,
  fc
    .tuple(
      fc.constantFrom('/revoke', '/introspect'),
      plausibleParams([], ['token', 'token_type_hint']),
      clientAuthentication,
    )
    .map(([path, text, [headers, extra]]) => ({ method: 'POST', path, headers, body: { text: text + extra } })),
  fc.constantFrom('GET', 'POST').map((method) => ({
    method,
    path: '/userinfo',
    headers: [['authorization', `Bearer ${ph('access_token')}`] as [string, string]],
  })),
);

interface Endpoint {
  path: fc.Arbitrary<string>;
  methods: readonly string[];
  names: readonly string[];
}

const clientRef = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(ph('managed_client'), ph('public_client'), ph('confidential_client')) },
  { weight: 1, arbitrary: junkText.map((text) => encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'))) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%ZZ', '..', '%2e%2e', 'a/b', '%2F', ph('document_client')) },
);

const ENDPOINTS: Endpoint[] = [
  {
    path: fc.constantFrom('/register', '/register/', '/register?x=1'),
    methods: ['POST', 'GET', 'PUT', 'OPTIONS'],
    names: [],
  },
  { path: clientRef.map((id) => `/register/${id}`), methods: ['GET', 'PUT', 'DELETE', 'POST', 'OPTIONS'], names: [] },
  { path: clientRef.map((id) => `/register/${id}/secret`), methods: ['POST', 'GET'], names: [] },
  {
    path: encodedParams(AUTHORIZE_PARAMS).map((query) => `/authorize?${query}`),
    methods: ['GET', 'POST', 'HEAD'],
    names: AUTHORIZE_PARAMS,
  },
  { path: fc.constantFrom('/authorize/login'), methods: ['POST', 'GET'], names: SIGN_IN_PARAMS },
  {
    path: encodedParams(SIGN_IN_PARAMS).map((query) => `/authorize/consent?${query}`),
    methods: ['GET'],
    names: SIGN_IN_PARAMS,
  },
  { path: fc.constantFrom('/authorize/decision'), methods: ['POST'], names: SIGN_IN_PARAMS },
  {
    path: fc.constantFrom('/token', '/token?grant_type=refresh_token'),
    methods: ['POST', 'GET', 'OPTIONS'],
    names: TOKEN_PARAMS,
  },
  { path: fc.constantFrom('/revoke'), methods: ['POST', 'GET', 'OPTIONS'], names: TOKEN_HOLDER_PARAMS },
  { path: fc.constantFrom('/introspect'), methods: ['POST', 'GET', 'OPTIONS'], names: TOKEN_HOLDER_PARAMS },
  {
    path: fc.constantFrom('/userinfo', '/userinfo?access_token=x'),
    methods: ['GET', 'POST', 'OPTIONS'],
    names: ['access_token'],
  },
  {
    path: fc.constantFrom(
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
      '/.well-known/oauth-protected-resource',
      '/.well-known/jwks.json',
      '/',
      '/nothing-here',
      '//register',
      '/register/../token',
      '/%2e%2e/token',
      '/token/',
      `/${'a'.repeat(8000)}`,
      '/admin',
      '/admin/clients',
    ),
    methods: ['GET', 'POST', 'HEAD', 'OPTIONS', 'DELETE'],
    names: TOKEN_PARAMS,
  },
];

const ALL_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

/** One request to one endpoint, anything at all: mostly methods it takes, sometimes any. */
const anyCase: fc.Arbitrary<HttpCase> = fc.constantFrom(...ENDPOINTS).chain((endpoint) =>
  fc
    .record({
      method: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...endpoint.methods) },
        { weight: 1, arbitrary: fc.constantFrom(...ALL_METHODS) },
      ),
      path: endpoint.path,
      headers,
      body: body(endpoint.names.length > 0 ? endpoint.names : TOKEN_PARAMS),
    })
    .map((testCase) => {
      // A body on GET and HEAD is allowed by HTTP but not sent by fetch-like clients: kept for the rest.
      if (testCase.method === 'GET' || testCase.method === 'HEAD') return { ...testCase, body: undefined };
      return testCase;
    }),
);

/** Half well-formed (to get past the first checks), half anything. */
export const httpCase: fc.Arbitrary<HttpCase> = fc.oneof(plausibleCase, anyCase);

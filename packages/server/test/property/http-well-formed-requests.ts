/**
 * Well-formed requests, one mutation at most away from what a real client sends: the right
 * content type and credentials, parameters with the values the server issued. Without them the
 * generated requests would stop at the first check of each endpoint.
 */
import fc from 'fast-check';
import { registrationBody } from '../../../oauth-dcr/test/support/property-client-metadata.js';
import { type HttpCase, ph, value } from './http-request-parts.js';

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

export const plausibleCase: fc.Arbitrary<HttpCase> = fc.oneof<fc.Arbitrary<HttpCase>[]>(
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
  // RFC 6749 §6 as a client sends it: rotation, then replay of the old token, both reached.
  fc
    .tuple(clientAuthentication, fc.constantFrom('', '&scope=openid', '&resource=https%3A%2F%2Fmcp.example%2Fmcp'))
    .map(([[headers, extra], more]) => ({
      method: 'POST',
      path: '/token',
      headers,
      body: { text: `grant_type=refresh_token&refresh_token=${ph('refresh_token')}${extra}${more}` },
    })),
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

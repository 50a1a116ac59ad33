/**
 * Requests for the HTTP surface property: every endpoint of the reference server, with generated
 * methods, paths, queries, headers and bodies (http-request-parts.ts), half of them well formed
 * (http-well-formed-requests.ts). A case is plain data, so a failure is kept in a seed file and
 * replayed as it is; `{{name}}` placeholders stand for what the running server issued, filled in
 * when the case is sent (http-surface.test.ts).
 */
import fc from 'fast-check';
import {
  AUTHORIZE_PARAMS,
  body,
  encodedParams,
  headers,
  type HttpCase,
  junkText,
  ph,
  SIGN_IN_PARAMS,
  TOKEN_HOLDER_PARAMS,
  TOKEN_PARAMS,
} from './http-request-parts.js';
import { plausibleCase } from './http-well-formed-requests.js';

export type { HttpCase, Placeholder } from './http-request-parts.js';

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

/**
 * Client authentication at the token endpoint, at its edges (RFC 6749 §2.3.1, RFC 7521 §4.2,
 * RFC 7591 §3.2.1): which secret is accepted at which second, and how a request's credentials
 * are read. Each row is a case a small slip in client-auth.ts would get wrong; found by mutation
 * testing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ClientRecord,
  generateSecret,
  hashSecret,
  isAcceptedSecret,
  isCurrentSecret,
  JWT_BEARER_CLIENT_ASSERTION_TYPE,
  type PresentedClientCredentials,
  readClientCredentials,
} from 'oauth-dcr';

const NOW = 1_800_000_000;
const current = generateSecret();
const previous = generateSecret();

/** The secret fields of a stored client; the rest of the record plays no part in these rules. */
function record(fields: {
  expiresAt?: number;
  hasSecret?: boolean;
  previousExpiresAt?: number;
  hasPrevious?: boolean;
}): ClientRecord {
  const secretFields: Partial<ClientRecord> = { clientSecretExpiresAt: fields.expiresAt ?? 0 };
  if (fields.hasSecret !== false) secretFields.clientSecretHash = hashSecret(current);
  if (fields.hasPrevious !== false && fields.previousExpiresAt !== undefined) {
    secretFields.previousSecretHash = hashSecret(previous);
  }
  if (fields.previousExpiresAt !== undefined) secretFields.previousSecretExpiresAt = fields.previousExpiresAt;
  return secretFields as ClientRecord;
}

describe('which secret works when (RFC 7591 §3.2.1; renewal overlap)', () => {
  // [case, stored, presented, isCurrentSecret, isAcceptedSecret]
  const cases: Array<[string, ClientRecord, string, boolean, boolean]> = [
    ['no secret stored', record({ hasSecret: false }), current, false, false],
    ['never expires (0)', record({ expiresAt: 0 }), current, true, true],
    ['expires next second', record({ expiresAt: NOW + 1 }), current, true, true],
    ['expires this second', record({ expiresAt: NOW }), current, false, false],
    ['expired a second ago', record({ expiresAt: NOW - 1 }), current, false, false],
    ['the wrong secret', record({ expiresAt: 0 }), previous, false, false],
    ['previous, overlap ends next second', record({ previousExpiresAt: NOW + 1 }), previous, false, true],
    ['previous, overlap ends this second', record({ previousExpiresAt: NOW }), previous, false, false],
    ['previous, overlap over', record({ previousExpiresAt: NOW - 1 }), previous, false, false],
    [
      'previous digest without an end',
      { ...record({}), previousSecretHash: hashSecret(previous) } as ClientRecord,
      previous,
      false,
      false,
    ],
    [
      'an end without a previous digest',
      record({ previousExpiresAt: NOW + 60, hasPrevious: false }),
      previous,
      false,
      false,
    ],
    [
      'current expired, previous in its overlap',
      record({ expiresAt: NOW - 1, previousExpiresAt: NOW + 60 }),
      previous,
      false,
      true,
    ],
    [
      'current expired, presented current',
      record({ expiresAt: NOW - 1, previousExpiresAt: NOW + 60 }),
      current,
      false,
      false,
    ],
    [
      'no current secret, previous in its overlap',
      record({ hasSecret: false, previousExpiresAt: NOW + 60 }),
      previous,
      false,
      true,
    ],
  ];
  for (const [name, stored, presented, isCurrent, isAccepted] of cases) {
    it(`${name}: current ${isCurrent}, accepted ${isAccepted}`, () => {
      assert.equal(isCurrentSecret(stored, presented, NOW), isCurrent);
      assert.equal(isAcceptedSecret(stored, presented, NOW), isAccepted);
    });
  }
});

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An unsigned JWT with any claims, numbers included (reading does not verify). */
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: 'none' })}.${b64(claims)}.`;
const type = JWT_BEARER_CLIENT_ASSERTION_TYPE;

describe('readClientCredentials at its edges (RFC 6749 §2.3, RFC 7521 §4.2)', () => {
  type Request = { authorization?: string; body?: Record<string, unknown> };
  const read: Array<[string, Request, PresentedClientCredentials]> = [
    [
      'an empty Authorization header beside client_id is no header',
      { authorization: '', body: { client_id: 'c1' } },
      { kind: 'credentials', clientId: 'c1', method: 'none' },
    ],
    [
      'an empty Authorization header beside an assertion is no second method',
      { authorization: '', body: { client_assertion_type: type, client_assertion: jwt({ sub: 'c1' }) } },
      { kind: 'credentials', clientId: 'c1', method: 'private_key_jwt', clientAssertion: jwt({ sub: 'c1' }) },
    ],
    [
      'Basic with several spaces',
      { authorization: basic('c1:s1').replace('Basic ', 'Basic   ') },
      { kind: 'credentials', clientId: 'c1', clientSecret: 's1', method: 'client_secret_basic' },
    ],
    [
      'Basic with an empty user-id: a client no one has (invalid_client later)',
      { authorization: basic(':s1') },
      { kind: 'credentials', clientId: '', clientSecret: 's1', method: 'client_secret_basic' },
    ],
    ['an empty client_id is no client_id', { body: { client_id: '' } }, { kind: 'missing' }],
    [
      'empty assertion parameters are not sent',
      { body: { client_id: 'c1', client_assertion: '', client_assertion_type: '' } },
      { kind: 'credentials', clientId: 'c1', method: 'none' },
    ],
    [
      'an empty sub falls back to iss',
      { body: { client_assertion_type: type, client_assertion: jwt({ sub: '', iss: 'c1' }) } },
      { kind: 'credentials', clientId: 'c1', method: 'private_key_jwt', clientAssertion: jwt({ sub: '', iss: 'c1' }) },
    ],
    [
      'a numeric sub falls back to iss',
      { body: { client_assertion_type: type, client_assertion: jwt({ sub: 7, iss: 'c1' }) } },
      { kind: 'credentials', clientId: 'c1', method: 'private_key_jwt', clientAssertion: jwt({ sub: 7, iss: 'c1' }) },
    ],
  ];
  for (const [name, request, expected] of read) {
    it(name, () => assert.deepEqual(readClientCredentials(request), expected));
  }

  const invalid: Array<[string, Request, RegExp]> = [
    ['Basic after another scheme', { authorization: `Bearer ${basic('c1:s1')}` }, /not HTTP Basic/],
    ['Basic followed by more', { authorization: `${basic('c1:s1')} extra` }, /not HTTP Basic/],
    [
      'a client_assertion_type that is not a string',
      { body: { client_assertion_type: [type], client_assertion: jwt({ sub: 'c1' }) } },
      /^client_assertion_type is malformed$/,
    ],
    [
      'a client_id that is not a string beside an assertion',
      { body: { client_id: ['c1'], client_assertion_type: type, client_assertion: jwt({ sub: 'c1' }) } },
      /^client_id is malformed$/,
    ],
    [
      'an assertion with an empty iss and no sub',
      { body: { client_assertion_type: type, client_assertion: jwt({ iss: '' }) } },
      /names no client/,
    ],
    [
      'an assertion with a numeric iss and no sub',
      { body: { client_assertion_type: type, client_assertion: jwt({ iss: 7 }) } },
      /names no client/,
    ],
  ];
  for (const [name, request, description] of invalid) {
    it(`invalid_request: ${name}`, () => {
      const result = readClientCredentials(request);
      assert.equal(result.kind, 'invalid');
      assert.match(result.kind === 'invalid' ? result.description : '', description);
    });
  }
});

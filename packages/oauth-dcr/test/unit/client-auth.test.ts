import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsecuredJWT } from 'jose';
import {
  checkClientAuthMethod,
  JWT_BEARER_CLIENT_ASSERTION_TYPE,
  readClientCredentials,
  type PresentedClientCredentials,
} from 'oauth-dcr';

/** Reading the credentials a request presents (RFC 6749 §2.3.1), and which method that was. */

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('readClientCredentials', () => {
  const cases: Array<[string, { authorization?: string; body?: Record<string, unknown> }, PresentedClientCredentials]> =
    [
      [
        'HTTP Basic',
        { authorization: basic('c1', 's1') },
        { kind: 'credentials', clientId: 'c1', clientSecret: 's1', method: 'client_secret_basic' },
      ],
      [
        'HTTP Basic, form-urlencoded parts (§2.3.1)',
        { authorization: basic('c%2D1', 'a+b%3A') },
        { kind: 'credentials', clientId: 'c-1', clientSecret: 'a b:', method: 'client_secret_basic' },
      ],
      [
        'HTTP Basic, lower-case scheme',
        { authorization: basic('c1', 's1').replace('Basic', 'basic') },
        { kind: 'credentials', clientId: 'c1', clientSecret: 's1', method: 'client_secret_basic' },
      ],
      [
        'HTTP Basic with an empty password is still Basic',
        { authorization: basic('c1', '') },
        { kind: 'credentials', clientId: 'c1', method: 'client_secret_basic' },
      ],
      [
        'HTTP Basic with the same client_id in the body',
        { authorization: basic('c1', 's1'), body: { client_id: 'c1' } },
        { kind: 'credentials', clientId: 'c1', clientSecret: 's1', method: 'client_secret_basic' },
      ],
      [
        'HTTP Basic and an empty client_secret',
        { authorization: basic('c1', 's1'), body: { client_secret: '' } },
        { kind: 'credentials', clientId: 'c1', clientSecret: 's1', method: 'client_secret_basic' },
      ],
      [
        'body parameters',
        { body: { client_id: 'c1', client_secret: 's1' } },
        { kind: 'credentials', clientId: 'c1', clientSecret: 's1', method: 'client_secret_post' },
      ],
      ['client_id alone', { body: { client_id: 'c1' } }, { kind: 'credentials', clientId: 'c1', method: 'none' }],
      [
        'client_id and an empty client_secret',
        { body: { client_id: 'c1', client_secret: '' } },
        { kind: 'credentials', clientId: 'c1', method: 'none' },
      ],
      ['nothing', { body: {} }, { kind: 'missing' }],
      ['a client_secret without client_id', { body: { client_secret: 's1' } }, { kind: 'missing' }],
    ];
  for (const [name, request, expected] of cases) {
    it(name, () => assert.deepEqual(readClientCredentials(request), expected));
  }

  const invalid: Array<[string, { authorization?: string; body?: Record<string, unknown> }, RegExp]> = [
    [
      'two methods (§2.3)',
      { authorization: basic('c1', 's1'), body: { client_secret: 's1' } },
      /one client authentication method/,
    ],
    ['a Bearer header', { authorization: 'Bearer abc' }, /not HTTP Basic/],
    ['Basic without a colon', { authorization: `Basic ${Buffer.from('c1').toString('base64')}` }, /Malformed/],
    ['Basic with a bad percent-escape', { authorization: basic('c%ZZ', 's') }, /Malformed/],
    [
      'client_id in the body differs from Basic',
      { authorization: basic('c1', 's1'), body: { client_id: 'c2' } },
      /does not match/,
    ],
    ['client_secret repeated', { body: { client_id: 'c1', client_secret: ['a', 'b'] } }, /malformed/],
  ];
  for (const [name, request, description] of invalid) {
    it(`refuses ${name}`, () => {
      const read = readClientCredentials(request);
      assert.equal(read.kind, 'invalid');
      assert.match((read as { description: string }).description, description);
    });
  }
});

/** A JWT to read; reading never verifies it (Registration.verifyClientAssertion does). */
const jwt = (claims: Record<string, unknown>) => new UnsecuredJWT(claims).encode();

describe('readClientCredentials with a JWT client assertion (RFC 7521 §4.2, RFC 7523 §2.2)', () => {
  const type = JWT_BEARER_CLIENT_ASSERTION_TYPE;
  const signed = jwt({ iss: 'c1', sub: 'c1', aud: 'https://as.example' });

  it('reads the client from the assertion’s sub', () => {
    assert.deepEqual(readClientCredentials({ body: { client_assertion_type: type, client_assertion: signed } }), {
      kind: 'credentials',
      clientId: 'c1',
      method: 'private_key_jwt',
      clientAssertion: signed,
    });
  });

  it('accepts a client_id parameter equal to sub', () => {
    const read = readClientCredentials({
      body: { client_id: 'c1', client_assertion_type: type, client_assertion: signed },
    });
    assert.deepEqual(read, { kind: 'credentials', clientId: 'c1', method: 'private_key_jwt', clientAssertion: signed });
  });

  it('falls back to iss when the assertion has no sub (verification then refuses it)', () => {
    const noSub = jwt({ iss: 'c1' });
    const read = readClientCredentials({ body: { client_assertion_type: type, client_assertion: noSub } });
    assert.deepEqual(read, { kind: 'credentials', clientId: 'c1', method: 'private_key_jwt', clientAssertion: noSub });
  });

  it('ignores an empty client_secret beside the assertion, as everywhere', () => {
    const read = readClientCredentials({
      body: { client_assertion_type: type, client_assertion: signed, client_secret: '' },
    });
    assert.equal(read.kind === 'credentials' && read.method, 'private_key_jwt');
  });

  const invalid: Array<[string, { authorization?: string; body?: Record<string, unknown> }, RegExp]> = [
    [
      'an assertion and HTTP Basic (§2.3: one method)',
      { authorization: basic('c1', 's1'), body: { client_assertion_type: type, client_assertion: signed } },
      /one client authentication method/,
    ],
    [
      'an assertion and a client_secret',
      { body: { client_id: 'c1', client_secret: 's1', client_assertion_type: type, client_assertion: signed } },
      /one client authentication method/,
    ],
    [
      'an assertion and a Bearer header',
      { authorization: 'Bearer abc', body: { client_assertion_type: type, client_assertion: signed } },
      /one client authentication method/,
    ],
    [
      'a client_id other than sub',
      { body: { client_id: 'c2', client_assertion_type: type, client_assertion: signed } },
      /client_id does not match the sub/,
    ],
    [
      'a client_id with an assertion that has no sub',
      { body: { client_id: 'c1', client_assertion_type: type, client_assertion: jwt({ iss: 'c1' }) } },
      /client_id does not match the sub/,
    ],
    [
      'an unknown assertion type',
      {
        body: {
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
          client_assertion: signed,
        },
      },
      /saml2-bearer is not supported/,
    ],
    ['an assertion without its type', { body: { client_assertion: signed } }, /client_assertion_type is missing/],
    ['a type without an assertion', { body: { client_assertion_type: type } }, /client_assertion is missing/],
    [
      'a repeated assertion',
      { body: { client_assertion_type: type, client_assertion: [signed, signed] } },
      /client_assertion is malformed/,
    ],
    [
      'an assertion that is not a JWT',
      { body: { client_assertion_type: type, client_assertion: 'abc' } },
      /not a well-formed JWT/,
    ],
    [
      'an assertion naming no client',
      { body: { client_assertion_type: type, client_assertion: jwt({ aud: 'https://as.example' }) } },
      /names no client/,
    ],
  ];
  for (const [name, request, description] of invalid) {
    it(`refuses ${name} as invalid_request`, () => {
      const read = readClientCredentials(request);
      assert.equal(read.kind, 'invalid');
      assert.match((read as { description: string }).description, description);
    });
  }
});

describe('checkClientAuthMethod', () => {
  const methods = ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt'] as const;
  for (const registered of [...methods, 'tls_client_auth']) {
    for (const used of methods) {
      const accepted = registered === used;
      it(`${registered} client using ${used}: ${accepted ? 'accepted' : 'refused'}`, () => {
        const refusal = checkClientAuthMethod(registered, used);
        if (accepted) assert.equal(refusal, undefined);
        else
          assert.match(refusal ?? '', new RegExp(`registered token_endpoint_auth_method ${registered}.*used ${used}`));
      });
    }
  }
});

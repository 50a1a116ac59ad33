import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkClientAuthMethod,
  readClientCredentials,
  type PresentedClientCredentials,
} from '../../src/protocol/client-auth.js';

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

describe('checkClientAuthMethod', () => {
  const methods = ['client_secret_basic', 'client_secret_post', 'none'] as const;
  for (const registered of [...methods, 'private_key_jwt']) {
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

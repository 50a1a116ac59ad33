/**
 * grant_types and response_types together (RFC 7591 §2, §2.1), at the edges mutation testing
 * found unheld: response types that imply grants, the implicit grant's own response types, a
 * Client ID Metadata Document's "drop what is unsupported" mode, and the wording of refusals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistrationError } from 'oauth-dcr';
import { checkGrantsForAuthMethod, resolveGrantAndResponseTypes } from '../../src/metadata/grant-types.js';

const CODE = 'authorization_code';
const IMPLICIT = 'implicit';
const withImplicit = new Set([CODE, IMPLICIT, 'refresh_token']);
const codeOnly = new Set([CODE, 'refresh_token']);

type Case = [
  name: string,
  grants: string[] | undefined,
  responseTypes: string[] | undefined,
  allowed: Set<string>,
  expected: { grantTypes: string[]; responseTypes: string[] },
  dropUnsupported?: boolean,
];

describe('resolveGrantAndResponseTypes: what is registered', () => {
  const cases: Case[] = [
    [
      'id_token alone implies implicit',
      undefined,
      ['id_token'],
      withImplicit,
      { grantTypes: [IMPLICIT], responseTypes: ['id_token'] },
    ],
    [
      'code id_token implies both',
      undefined,
      ['code id_token'],
      withImplicit,
      { grantTypes: [CODE, IMPLICIT], responseTypes: ['code id_token'] },
    ],
    [
      'implicit alone defaults to token',
      [IMPLICIT],
      undefined,
      withImplicit,
      { grantTypes: [IMPLICIT], responseTypes: ['token'] },
    ],
    [
      'code and implicit with a response type each',
      [CODE, IMPLICIT],
      ['code', 'token'],
      withImplicit,
      { grantTypes: [CODE, IMPLICIT], responseTypes: ['code', 'token'] },
    ],
    [
      'a document: unsupported response types dropped',
      [CODE, IMPLICIT],
      ['code', 'token', 'code foo'],
      codeOnly,
      { grantTypes: [CODE], responseTypes: ['code'] },
      true,
    ],
    [
      'a document: a hybrid response type dropped when one of its grants is',
      [CODE, IMPLICIT],
      ['code', 'code token'],
      codeOnly,
      { grantTypes: [CODE], responseTypes: ['code'] },
      true,
    ],
    [
      'a document: every response type kept when its grants are',
      [CODE, IMPLICIT],
      ['code', 'code token'],
      withImplicit,
      { grantTypes: [CODE, IMPLICIT], responseTypes: ['code', 'code token'] },
      true,
    ],
    [
      'a document: no response types sent, the default',
      [CODE],
      undefined,
      codeOnly,
      { grantTypes: [CODE], responseTypes: ['code'] },
      true,
    ],
  ];
  for (const [name, grants, types, allowed, expected, dropUnsupported] of cases) {
    it(name, () => {
      assert.deepEqual(resolveGrantAndResponseTypes(grants, types, allowed, { dropUnsupported }), expected);
    });
  }
});

describe('resolveGrantAndResponseTypes: what is refused, and how it says so', () => {
  const cases: Array<[string, string[] | undefined, string[] | undefined, Set<string>, RegExp, boolean?]> = [
    [
      'no supported grant, naming each requested',
      ['urn:example:a', 'urn:example:b'],
      undefined,
      codeOnly,
      /^None of the requested grant types is supported for dynamic registration \(requested: urn:example:a, urn:example:b\)$/,
    ],
    [
      'a response type whose grant is not enabled',
      [CODE],
      ['code', 'token'],
      codeOnly,
      /^Grant type 'implicit' is not allowed for dynamic registration \(needed by response type 'token'\)$/,
    ],
    [
      'implicit without token or id_token',
      [CODE, IMPLICIT],
      ['code'],
      withImplicit,
      /^grant_types: 'implicit' requires response type 'token' or 'id_token' in response_types \(RFC 7591 §2\.1\)$/,
    ],
    [
      'an unknown part in a response type',
      [CODE],
      ['code foo'],
      codeOnly,
      /'code foo' is not a supported response type/,
    ],
    [
      'a part repeated in a response type',
      [CODE],
      ['code code'],
      codeOnly,
      /'code code' is not a supported response type/,
    ],
    [
      'a document none of whose response types is supported',
      [CODE, IMPLICIT],
      ['token', 'foo'],
      codeOnly,
      /^None of the requested response types is supported \(requested: token, foo\)$/,
      true,
    ],
  ];
  for (const [name, grants, types, allowed, message, dropUnsupported] of cases) {
    it(name, () => {
      assert.throws(
        () => resolveGrantAndResponseTypes(grants, types, allowed, { dropUnsupported }),
        (error: unknown) => error instanceof RegistrationError && message.test(error.message),
      );
    });
  }

  it('a document with an empty response_types list keeps it empty', () => {
    assert.deepEqual(
      resolveGrantAndResponseTypes(['client_credentials'], [], new Set(['client_credentials']), {
        dropUnsupported: true,
      }),
      {
        grantTypes: ['client_credentials'],
        responseTypes: [],
      },
    );
  });

  it('client_credentials for a public client says what to do instead (RFC 6749 §4.4)', () => {
    assert.throws(
      () => checkGrantsForAuthMethod(['client_credentials'], 'none'),
      /cannot use it; register a confidential client instead$/,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientMetadata } from '../../src/index.js';
import { CLIENT_FIELDS, type FieldTable } from '../../src/metadata/fields.js';
import { checkFieldTypes } from '../../src/metadata/validate.js';

describe('ClientMetadata and the field table', () => {
  it('refuses, at compile time, a row for an unknown field or with a kind of the wrong type', () => {
    // Each line below must fail to compile: `npm run typecheck` reports an unused directive otherwise.
    // @ts-expect-error a field ClientMetadata does not have (a typo)
    const typo = { redirect_uri: { kind: 'string-array', source: 'RFC 7591 §2' } } satisfies FieldTable;
    // @ts-expect-error redirect_uris is a string array, not a string
    const wrongKind = { redirect_uris: { kind: 'string', source: 'RFC 7591 §2' } } satisfies FieldTable;
    // @ts-expect-error default_max_age is a number
    const wrongNumber = { default_max_age: { kind: 'boolean', source: 'OIDC DCR §2' } } satisfies FieldTable;
    const right = {
      application_type: { kind: 'string', oneOf: ['web', 'native'], source: 'OIDC DCR §2' },
    } satisfies FieldTable;
    assert.ok(typo && wrongKind && wrongNumber && right);
  });

  it('types the fields the pipeline checked, and keeps language-tagged ones through the index signature', () => {
    const known: ClientMetadata = checkFieldTypes({
      redirect_uris: ['https://app.example/cb'],
      default_max_age: 60,
      'client_name#ja-Jpan-JP': 'クライアント',
      client_name: 'App',
      unknown_extension: true,
    });
    const uris: string[] | undefined = known.redirect_uris;
    const maxAge: number | undefined = known.default_max_age;
    assert.deepEqual(uris, ['https://app.example/cb']);
    assert.equal(maxAge, 60);
    assert.equal(known['client_name#ja-Jpan-JP'], 'クライアント');
    assert.equal(known.unknown_extension, undefined, 'unknown metadata is ignored (RFC 7591 §2)');
    assert.ok(Object.hasOwn(CLIENT_FIELDS, 'client_name'));
  });
});

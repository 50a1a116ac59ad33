/**
 * RFC 8414 metadata while documents are on or off (CIMD §5), the option checks, and the ids the
 * library generates itself (CIMD §6.9: never an https URL).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistration, type RegistrationOptions } from 'oauth-dcr';
import { memoryStore } from 'oauth-dcr/memory';
import { makeRegistration, mcpClient, register } from '../support/registration.js';

const withDocuments = (options: Partial<RegistrationOptions> = {}) =>
  makeRegistration({ clientIdMetadataDocuments: { enabled: true }, ...options });

describe('discovery (CIMD §5)', () => {
  it('advertises client_id_metadata_document_supported and none while documents are on', () => {
    const metadata = withDocuments().serverMetadata();
    assert.equal(metadata.client_id_metadata_document_supported, true);
    assert.ok(metadata.token_endpoint_auth_methods_supported.includes('none'));
    assert.ok(metadata.registration_endpoint, 'DCR stays advertised as the fallback');
  });

  it('omits the member while documents are off (never false)', () => {
    const metadata = makeRegistration().serverMetadata();
    assert.equal('client_id_metadata_document_supported' in metadata, false);
    assert.equal(JSON.stringify(metadata).includes('client_id_metadata_document'), false);
  });

  it('adds none even where registrations may not use it', () => {
    const metadata = withDocuments({ tokenEndpointAuthMethods: ['client_secret_basic'] }).serverMetadata();
    assert.deepEqual(metadata.token_endpoint_auth_methods_supported, ['none', 'client_secret_basic']);
  });

  it('lists the asymmetric signing algorithms exactly when private_key_jwt is on (RFC 8414 §2)', () => {
    assert.equal(withDocuments().serverMetadata().token_endpoint_auth_signing_alg_values_supported, undefined);
    const metadata = withDocuments({
      tokenEndpointAuthMethods: ['none', 'private_key_jwt'],
    }).serverMetadata();
    const algorithms = metadata.token_endpoint_auth_signing_alg_values_supported ?? [];
    assert.ok(algorithms.includes('RS256') && algorithms.includes('ES256'));
    assert.ok(algorithms.every((alg) => !alg.startsWith('HS') && alg !== 'none'));
  });
});

describe('client ids the library generates (CIMD §6.9)', () => {
  it('never start with https://, so they can never be taken for a document URL', async () => {
    const dcr = withDocuments();
    for (let i = 0; i < 20; i += 1) {
      const response = await register(dcr, mcpClient);
      assert.equal(response.status, 201);
      assert.doesNotMatch(response.body.client_id, /^https?:/i);
      assert.equal((await dcr.lookupClient(response.body.client_id)).kind, 'found');
    }
  });
});

describe('the clientIdMetadataDocuments option', () => {
  const make = (documents: unknown) => () =>
    createRegistration({
      store: memoryStore(),
      clientIdMetadataDocuments: documents as RegistrationOptions['clientIdMetadataDocuments'],
    });

  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', 'yes', /clientIdMetadataDocuments must be an object/],
    ['enabled not a boolean', { enabled: 'true' }, /enabled must be true or false/],
    ['allowQuery not a boolean', { allowQuery: 1 }, /allowQuery must be true or false/],
    ['maxUrlLength too small', { maxUrlLength: 5 }, /maxUrlLength/],
    ['timeoutMs zero', { timeoutMs: 0 }, /timeoutMs/],
    ['allowFetch not a function', { allowFetch: true }, /allowFetch must be a function/],
    ['allowClient not a function', { allowClient: 'x' }, /allowClient must be a function/],
    ['a negative maxEntries', { cache: { maxEntries: -1 } }, /cache\.maxEntries/],
    ['a fractional TTL', { cache: { defaultTtlSeconds: 1.5 } }, /cache\.defaultTtlSeconds/],
    ['a floor above the ceiling', { cache: { minTtlSeconds: 600, maxTtlSeconds: 60 } }, /minTtlSeconds/],
  ];
  for (const [name, value, message] of bad) {
    it(`refuses ${name} with a TypeError at start-up`, () => {
      assert.throws(make(value), (error: unknown) => error instanceof TypeError && message.test(error.message));
    });
  }

  it('is off by default', () => {
    assert.equal(makeRegistration().serverMetadata().client_id_metadata_document_supported, undefined);
  });
});

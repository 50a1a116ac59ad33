/**
 * The metadata pipeline for its two sources: a registration and a Client ID Metadata Document,
 * whose web-page URLs must all be https (draft-ietf-oauth-client-id-metadata-document §4.1);
 * and the echo order of a registration (RFC 7591 §3.2.1). Found unheld by mutation testing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistrationError } from 'oauth-dcr';
import { type MetadataRules, validateClientMetadata } from '../../src/metadata/validate.js';

const rules: MetadataRules = {
  requireHttpsRedirectUris: true,
  tokenEndpointAuthMethods: new Set(['none', 'client_secret_basic']),
  defaultScope: undefined,
  fetchJson: () => Promise.reject(new Error('no document is fetched by these cases')),
};
const tier = { allowedGrantTypes: new Set(['authorization_code', 'refresh_token']) };
const base = { redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'none' };

describe('web-page URLs by source', () => {
  for (const field of ['client_uri', 'logo_uri', 'policy_uri', 'tos_uri']) {
    it(`${field} over http: accepted in a registration, refused in a metadata document`, async () => {
      const input = { ...base, [field]: 'http://app.example.com/page' };
      const registered = await validateClientMetadata(input, rules, tier, 'registration');
      assert.equal(registered[field], 'http://app.example.com/page');
      const byDefault = await validateClientMetadata(input, rules, tier);
      assert.equal(byDefault[field], 'http://app.example.com/page');
      await assert.rejects(
        validateClientMetadata(input, rules, tier, 'metadata_document'),
        (error: unknown) =>
          error instanceof RegistrationError && new RegExp(`^${field} must use https: `).test(error.message),
      );
    });
  }
});

describe('what a registration echoes', () => {
  it('puts the members that shape the client first, redirect_uris leading', async () => {
    const out = await validateClientMetadata({ client_name: 'Example', ...base }, rules, tier);
    assert.deepEqual(Object.keys(out).slice(0, 5), [
      'redirect_uris',
      'token_endpoint_auth_method',
      'grant_types',
      'response_types',
      'application_type',
    ]);
  });

  it('names the item of a URL list at fault', async () => {
    await assert.rejects(
      validateClientMetadata({ ...base, request_uris: [''] }, rules, tier),
      (error: unknown) =>
        error instanceof RegistrationError && /^request_uris\[0\] must not be empty$/.test(error.message),
    );
  });
});

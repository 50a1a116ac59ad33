import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as library from '../../src/index.js';
import { makeRegistration } from '../support/registration.js';

/** What hosts and adapters may read of an endpoint: a narrow view, never the resolved policy. */
describe('Registration: the public view of an endpoint', () => {
  it('exposes no policy, and the package exports neither Policy nor resolvePolicy', () => {
    const dcr = makeRegistration();
    assert.equal('policy' in dcr, false);
    assert.equal('resolvePolicy' in library, false);
    assert.equal('createPolicy' in library, false);
  });

  it('names its path without a trailing slash, and its clock', () => {
    assert.equal(makeRegistration().registrationPath, '/register');
    assert.equal(makeRegistration({ registrationPath: '/oauth/register/' }).registrationPath, '/oauth/register');
    assert.equal(makeRegistration({ now: () => 1234 }).now(), 1234);
  });

  it('gives the grants and scopes a tier may use, falling back to the deployment-wide ones', () => {
    const dcr = makeRegistration({
      allowedGrantTypes: ['authorization_code', 'refresh_token'],
      scopesSupported: ['read', 'write'],
      tiers: { anonymous: { allowedGrantTypes: ['authorization_code'], scopesSupported: ['read'] } },
    });
    assert.deepEqual([...dcr.clientLimits('anonymous').allowedGrantTypes], ['authorization_code']);
    assert.deepEqual([...(dcr.clientLimits('anonymous').scopesSupported ?? [])], ['read']);
    assert.deepEqual([...dcr.clientLimits('authenticated').allowedGrantTypes], ['authorization_code', 'refresh_token']);
    assert.deepEqual([...(dcr.clientLimits().scopesSupported ?? [])], ['read', 'write']);
    assert.equal(makeRegistration().clientLimits('anonymous').scopesSupported, undefined, 'no scope list: any scope');
  });
});

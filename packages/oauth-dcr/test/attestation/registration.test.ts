/**
 * Client attestation in the library (draft-ietf-oauth-attestation-based-client-auth-10), through
 * the Web handler: the option stays off unless set, registration admitted by a trusted attester
 * into the `attested` tier with that tier's ceilings, the software_id and domain bindings, and
 * the RFC 8414 metadata.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createRegistration, type ClientAttestationOptions, type RegistrationOptions } from '../../src/index.js';
import { memoryStore } from '../../src/store/memory.js';
import { BASE, makeRegistration, register, send } from '../support/registration.js';
import {
  makeAttester,
  makeInstanceKey,
  signAttestation,
  signPop,
  type InstanceKey,
  type TestAttester,
} from '../support/attestation-jwts.js';

const METHODS = ['none', 'client_secret_basic', 'attest_jwt_client_auth'];

describe('client attestation at registration and in metadata', () => {
  let vendor: TestAttester;
  let web: TestAttester;
  let instance: InstanceKey;
  let attestation: ClientAttestationOptions;

  const wallet = (extra: Record<string, unknown> = {}) => ({
    client_name: 'Wallet',
    software_id: 'wallet-app',
    redirect_uris: ['https://wallet.example/cb'],
    scope: 'read write',
    token_endpoint_auth_method: 'attest_jwt_client_auth',
    ...extra,
  });
  const headers = async (attester: TestAttester, sub: string) => ({
    'OAuth-Client-Attestation': await signAttestation(attester, instance, { sub }),
    'OAuth-Client-Attestation-PoP': await signPop(instance, { aud: BASE }),
  });
  const make = (options: Partial<RegistrationOptions> = {}) =>
    makeRegistration({ tokenEndpointAuthMethods: METHODS, clientAttestation: attestation, ...options });

  before(async () => {
    [vendor, web] = await Promise.all([makeAttester('vendor'), makeAttester('web')]);
    instance = await makeInstanceKey();
    attestation = {
      attesters: [
        { id: 'vendor', jwks: { keys: [vendor.publicJwk] }, softwareIds: ['wallet-app', 'wallet-lite'] },
        { id: 'web', jwks: { keys: [web.publicJwk] }, domains: ['example.org'], algorithms: ['ES256'] },
      ],
    };
  });

  it('is off by default: the method is neither accepted nor advertised', async () => {
    const dcr = makeRegistration();
    const metadata = dcr.serverMetadata();
    assert.ok(
      !metadata.token_endpoint_auth_methods_supported.includes('attest_jwt_client_auth'),
      "!metadata.token_endpoint_auth_methods_supported.includes('attest_jwt_client_auth')",
    );
    assert.equal(metadata.client_attestation_signing_alg_values_supported, undefined);
    const res = await register(dcr, wallet());
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_client_metadata');
  });

  it('the method and the attesters go together, and bad attesters stop the start', () => {
    const store = memoryStore();
    assert.throws(() => createRegistration({ store, issuer: BASE, tokenEndpointAuthMethods: METHODS }), TypeError);
    assert.throws(() => createRegistration({ store, issuer: BASE, clientAttestation: attestation }), TypeError);
    const vouchesForNothing = { attesters: [{ id: 'x', jwks: { keys: [vendor.publicJwk] } }] };
    assert.throws(
      () =>
        createRegistration({
          store,
          issuer: BASE,
          tokenEndpointAuthMethods: METHODS,
          clientAttestation: vouchesForNothing,
        }),
      /vouches for nothing/,
    );
    assert.throws(
      () => createRegistration({ store, tokenEndpointAuthMethods: METHODS, clientAttestation: attestation }),
      /issuer/,
    );
  });

  it('metadata lists the method and the algorithm lists, and no challenge endpoint without challenges', () => {
    const metadata = make().serverMetadata();
    assert.ok(
      metadata.token_endpoint_auth_methods_supported.includes('attest_jwt_client_auth'),
      "metadata.token_endpoint_auth_methods_supported.includes('attest_jwt_client_auth')",
    );
    assert.ok(
      metadata.client_attestation_signing_alg_values_supported!.includes('ES256'),
      "metadata.client_attestation_signing_alg_values_supported!.includes('ES256')",
    );
    assert.ok(
      metadata.client_attestation_pop_signing_alg_values_supported!.includes('ES256'),
      "metadata.client_attestation_pop_signing_alg_values_supported!.includes('ES256')",
    );
    assert.equal(metadata.challenge_endpoint, undefined);
    const withChallenges = make({
      clientAttestation: { ...attestation, challenge: { secret: 's'.repeat(32), endpoint: `${BASE}/challenge` } },
    }).serverMetadata();
    assert.equal(withChallenges.challenge_endpoint, `${BASE}/challenge`);
  });

  it('a trusted attestation admits the client in the attested tier, with no secret', async () => {
    const store = memoryStore();
    const res = await register(make({ store }), wallet(), await headers(vendor, 'wallet-app'));
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.client_secret, undefined);
    const stored = (await store.findClient(res.body.client_id))!;
    assert.equal(stored.registeredVia, 'attested');
    assert.equal(stored.registeredBy, 'vendor');
    assert.equal(stored.clientSecretHash, undefined);
  });

  it('the attested tier has its own ceilings', async () => {
    const dcr = make({ tiers: { attested: { scopesSupported: ['read'] } } });
    const attested = await register(dcr, wallet(), await headers(vendor, 'wallet-app'));
    assert.equal(attested.status, 201, attested.text);
    assert.equal(attested.body.scope, 'read');
    const anonymous = await register(dcr, wallet());
    assert.equal(anonymous.status, 201, anonymous.text);
    assert.equal(anonymous.body.scope, 'read write');
  });

  it('a presented attestation that fails is refused, never taken for an anonymous registration', async () => {
    const store = memoryStore();
    const dcr = make({ store });
    const forged = {
      'OAuth-Client-Attestation': await signAttestation(vendor, instance, {
        sub: 'wallet-app',
        signer: web.privateKey,
      }),
      'OAuth-Client-Attestation-PoP': await signPop(instance, { aud: BASE }),
    };
    const res = await register(dcr, wallet(), forged);
    assert.equal(res.status, 401, res.text);
    assert.equal(res.body.error, 'invalid_client');
    assert.equal((await store.listClients()).length, 0);
  });

  it('the same registration PoP cannot be used twice', async () => {
    const dcr = make();
    const sent = await headers(vendor, 'wallet-app');
    assert.equal((await register(dcr, wallet(), sent)).status, 201);
    const again = await register(dcr, wallet(), sent);
    assert.equal(again.status, 401, again.text);
  });

  it('the attestation sub must be the registered software_id, and the method attest_jwt_client_auth', async () => {
    const dcr = make();
    // Both software_ids are the attester's: still, the attestation vouches for one of them.
    const otherSoftware = await register(
      dcr,
      wallet({ software_id: 'wallet-lite' }),
      await headers(vendor, 'wallet-app'),
    );
    assert.equal(otherSoftware.status, 400);
    assert.equal(otherSoftware.body.error, 'invalid_client_metadata');
    const unlisted = await register(dcr, wallet({ software_id: 'game' }), await headers(vendor, 'game'));
    assert.equal(unlisted.status, 400);
    assert.equal(unlisted.body.error, 'invalid_client_metadata');
    const withSecret = await register(
      dcr,
      wallet({ token_endpoint_auth_method: 'client_secret_basic' }),
      await headers(vendor, 'wallet-app'),
    );
    assert.equal(withSecret.status, 400);
    assert.match(withSecret.body.error_description, /attest_jwt_client_auth/);
  });

  it('a domain attester admits only clients whose redirect URIs lie in its domains', async () => {
    const dcr = make();
    const inside = await register(
      dcr,
      wallet({ software_id: 'site', redirect_uris: ['https://app.example.org/cb'] }),
      await headers(web, 'site'),
    );
    assert.equal(inside.status, 201, inside.text);
    const outside = await register(
      dcr,
      wallet({ software_id: 'site', redirect_uris: ['https://app.example.org.evil.test/cb'] }),
      await headers(web, 'site'),
    );
    assert.equal(outside.status, 400);
    assert.equal(outside.body.error, 'invalid_client_metadata');
  });

  it('an RFC 7592 update keeps an attested client to what its attester vouches for', async () => {
    const dcr = make();
    const res = await register(dcr, wallet(), await headers(vendor, 'wallet-app'));
    assert.equal(res.status, 201, res.text);
    const path = `/register/${res.body.client_id}`;
    const auth = { authorization: `Bearer ${res.body.registration_access_token}` };
    const {
      client_secret_expires_at: _e,
      client_id_issued_at: _i,
      registration_access_token: _t,
      registration_client_uri: _u,
      ...current
    } = res.body;
    const changed = await send(dcr, 'PUT', path, { ...current, software_id: 'other' }, auth);
    assert.equal(changed.status, 400, changed.text);
    assert.equal(changed.body.error, 'invalid_client_metadata');
    const kept = await send(dcr, 'PUT', path, { ...current, client_name: 'Wallet 2' }, auth);
    assert.equal(kept.status, 200, kept.text);
  });
});

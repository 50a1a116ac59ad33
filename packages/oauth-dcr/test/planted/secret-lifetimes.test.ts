/**
 * How long a client secret authenticates, at the token endpoint (the oauth2-server integration's
 * getClient, which uses `isAcceptedSecret`), with the clock of the `now` option:
 * - RFC 7591 §3.2.1: `client_secret_expires_at` is when the secret stops working; at that second
 *   it has expired. 0 means never.
 * - Secret renewal (extension): the previous secret keeps working for `secretRenewalOverlap`
 *   seconds, never past its own expiry, and not at all without an overlap. A secret renewed away
 *   is no longer the "current" one an RFC 7592 update may show (§2.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oauth2ServerClients } from 'oauth-dcr/oauth2-server';
import type { RegistrationOptions } from '../../src/index.js';
import { bearer, makeRegistration, register, send } from '../support/registration.js';

const T0 = 1_800_000_000;

const confidential = {
  redirect_uris: ['https://app.example.com/cb'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};

/** A registration whose clock the test moves. */
function withClock(options: Partial<RegistrationOptions> = {}) {
  const clock = { now: T0 };
  const dcr = makeRegistration({ now: () => clock.now, ...options });
  const model = oauth2ServerClients(dcr);
  const accepts = async (clientId: string, secret: string) => (await model.getClient(clientId, secret)) !== null;
  return { dcr, clock, accepts };
}

describe('client_secret_expires_at (RFC 7591 §3.2.1)', () => {
  it('a secret works until the second it expires, and not from that second on', async () => {
    const { dcr, clock, accepts } = withClock({ clientSecretTtl: 3600 });
    const created = await register(dcr, confidential);
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.client_secret_expires_at, T0 + 3600);
    const { client_id: id, client_secret: secret } = created.body;
    clock.now = T0 + 3599;
    assert.equal(await accepts(id, secret), true);
    clock.now = T0 + 3600;
    assert.equal(await accepts(id, secret), false, 'expired at client_secret_expires_at');
    clock.now = T0 + 86_400;
    assert.equal(await accepts(id, secret), false);
  });

  it('0 means never: a secret without a lifetime works years later', async () => {
    const { dcr, clock, accepts } = withClock();
    const created = await register(dcr, confidential);
    assert.equal(created.body.client_secret_expires_at, 0);
    clock.now = T0 + 10 * 365 * 86_400;
    assert.equal(await accepts(created.body.client_id, created.body.client_secret), true);
  });
});

describe('secret renewal: the previous secret during the overlap only', () => {
  async function renew(dcr: ReturnType<typeof withClock>['dcr'], created: Record<string, any>) {
    const renewed = await send(
      dcr,
      'POST',
      `/register/${created.client_id}/secret`,
      undefined,
      bearer(created.registration_access_token),
    );
    assert.equal(renewed.status, 200, renewed.text);
    return renewed.body;
  }

  it('keeps the previous secret for secretRenewalOverlap seconds, the new one from the start', async () => {
    const { dcr, clock, accepts } = withClock({ secretRenewalOverlap: 300 });
    const created = (await register(dcr, confidential)).body;
    clock.now = T0 + 10;
    const renewed = await renew(dcr, created);
    assert.notEqual(renewed.client_secret, created.client_secret);
    assert.equal(await accepts(created.client_id, renewed.client_secret), true);
    assert.equal(await accepts(created.client_id, created.client_secret), true, 'the old secret during the overlap');
    clock.now = T0 + 10 + 299;
    assert.equal(await accepts(created.client_id, created.client_secret), true);
    clock.now = T0 + 10 + 300;
    assert.equal(await accepts(created.client_id, created.client_secret), false, 'the old secret after the overlap');
    assert.equal(await accepts(created.client_id, renewed.client_secret), true);
  });

  it('without an overlap the previous secret stops at once', async () => {
    const { dcr, accepts } = withClock();
    const created = (await register(dcr, confidential)).body;
    const renewed = await renew(dcr, created);
    assert.equal(await accepts(created.client_id, created.client_secret), false);
    assert.equal(await accepts(created.client_id, renewed.client_secret), true);
  });

  it('the overlap never outlives the old secret’s own expiry', async () => {
    const { dcr, clock, accepts } = withClock({ clientSecretTtl: 100, secretRenewalOverlap: 300 });
    const created = (await register(dcr, confidential)).body;
    clock.now = T0 + 50;
    const renewed = await renew(dcr, created);
    assert.equal(renewed.client_secret_expires_at, T0 + 50 + 100);
    clock.now = T0 + 99;
    assert.equal(await accepts(created.client_id, created.client_secret), true);
    clock.now = T0 + 100;
    assert.equal(await accepts(created.client_id, created.client_secret), false, 'expired with its own lifetime');
  });

  it('a renewed-away secret is not the current one an RFC 7592 update may show (§2.2)', async () => {
    const { dcr } = withClock({ secretRenewalOverlap: 300 });
    const created = (await register(dcr, confidential)).body;
    const renewed = await renew(dcr, created);
    const update = (secret: string) =>
      send(
        dcr,
        'PUT',
        `/register/${created.client_id}`,
        { ...confidential, client_id: created.client_id, client_secret: secret },
        bearer(created.registration_access_token),
      );
    const withOld = await update(created.client_secret);
    assert.equal(withOld.status, 400, withOld.text);
    assert.equal(withOld.body.error, 'invalid_client_metadata');
    const withNew = await update(renewed.client_secret);
    assert.equal(withNew.status, 200, withNew.text);
  });
});

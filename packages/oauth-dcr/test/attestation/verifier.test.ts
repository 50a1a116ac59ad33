/**
 * The library's ClientAttestationVerifier on its own (the public export), for the rules that the
 * HTTP suites cannot steer: the clock (PoP window both ways, challenge expiry), a failing replay
 * store, and the header forms a repeated header takes.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createClientAttestationVerifier, type ClientAttestationVerifier } from '../../src/index.js';
import {
  makeAttester,
  makeInstanceKey,
  signAttestation,
  signPop,
  type InstanceKey,
  type TestAttester,
} from '../support/attestation-jwts.js';

const ISSUER = 'https://as.example.com';

describe('ClientAttestationVerifier', () => {
  let attester: TestAttester;
  let instance: InstanceKey;
  let clock = Math.floor(Date.now() / 1000);
  const now = () => clock;

  const build = (
    extra: Partial<Parameters<typeof createClientAttestationVerifier>[0]> = {},
  ): ClientAttestationVerifier =>
    createClientAttestationVerifier({
      attesters: [{ id: 'vendor', jwks: { keys: [attester.publicJwk] }, clientIds: ['c1'] }],
      issuer: ISSUER,
      now,
      ...extra,
    });
  const verify = async (verifier: ClientAttestationVerifier, pop: { iat?: number; challenge?: string } = {}) =>
    verifier.verify(
      {
        attestation: await signAttestation(attester, instance, { sub: 'c1', iat: clock - 10 }),
        pop: await signPop(instance, { aud: ISSUER, ...pop }),
      },
      { attesters: verifier.attesters, subject: 'c1' },
    );

  before(async () => {
    attester = await makeAttester('vendor');
    instance = await makeInstanceKey();
  });

  it('accepts a valid pair and reports the instance key thumbprint', async () => {
    const verdict = await verify(build());
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    if (verdict.ok) {
      assert.equal(verdict.subject, 'c1');
      assert.match(verdict.instanceKeyThumbprint, /^[A-Za-z0-9_-]{43}$/);
    }
  });

  it('holds the PoP iat to the window both ways (default 300 s, and a configured one)', async () => {
    const verifier = build();
    assert.equal((await verify(verifier, { iat: clock + 600 })).ok, false, 'from the future');
    assert.equal((await verify(verifier, { iat: clock - 600 })).ok, false, 'too old');
    assert.equal((await verify(verifier, { iat: clock - 200 })).ok, true, 'inside');
    const narrow = build({ popMaxAgeSeconds: 60 });
    assert.equal((await verify(narrow, { iat: clock - 200 })).ok, false, 'outside a 60 s window');
  });

  it('refuses when the replay store cannot record the jti', async () => {
    const verdict = await verify(
      build({
        replayGuard: {
          async useOnce() {
            throw new Error('store down');
          },
        },
      }),
    );
    assert.equal(verdict.ok, false);
    if (!verdict.ok) assert.equal(verdict.error, 'invalid_client');
  });

  it('a repeated header, as an array or joined with a comma, is invalid_request', async () => {
    const verifier = build();
    const attestation = await signAttestation(attester, instance, { sub: 'c1' });
    const pop = await signPop(instance, { aud: ISSUER });
    for (const headers of [
      { attestation: [attestation, attestation], pop },
      { attestation: `${attestation}, ${attestation}`, pop },
      { attestation, pop: `${pop},${pop}` },
    ]) {
      const verdict = await verifier.verify(headers, { attesters: verifier.attesters });
      assert.equal(verdict.ok, false);
      if (!verdict.ok) assert.equal(verdict.error, 'invalid_request');
    }
  });

  it('challenges: required once on, valid for validSteps steps, then stale', async () => {
    const verifier = build({
      challenge: { secret: 'x'.repeat(32), endpoint: `${ISSUER}/challenge`, stepSeconds: 60, validSteps: 2 },
    });
    const missing = await verify(verifier);
    assert.equal(missing.ok, false);
    if (!missing.ok) {
      assert.equal(missing.error, 'use_attestation_challenge');
      assert.equal(missing.status, 400);
      assert.ok(verifier.challenges!.isValid(missing.challenge), 'verifier.challenges!.isValid(missing.challenge)');
    }
    const challenge = verifier.challenges!.issue();
    assert.equal((await verify(verifier, { challenge })).ok, true);
    clock += 60;
    assert.equal((await verify(verifier, { challenge, iat: clock })).ok, true, 'the next step still accepts it');
    clock += 60;
    const stale = await verify(verifier, { challenge, iat: clock });
    assert.equal(stale.ok, false);
    if (!stale.ok) assert.equal(stale.error, 'use_attestation_challenge');
    const otherSecret = build({ challenge: { secret: 'y'.repeat(32), endpoint: `${ISSUER}/challenge` } });
    assert.equal(otherSecret.challenges!.isValid(verifier.challenges!.issue()), false, 'another secret');
  });
});

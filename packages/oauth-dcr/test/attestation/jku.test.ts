/**
 * Attester keys by `jku` (draft-ietf-oauth-attestation-based-client-auth-10 §9.8): followed only
 * when the URL is on the attester's allow-list, fetched through safe-fetch from a local https server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createClientAttestationVerifier, type ClientAttestationVerifier } from '../../src/index.js';
import { makeCertificate, startServer, type LocalServer, type TestCertificate } from '../net/local-https.js';
import {
  makeAttester,
  makeInstanceKey,
  signPop,
  type InstanceKey,
  type TestAttester,
} from '../support/attestation-jwts.js';

const ISSUER = 'https://as.example.com';
const certificate = makeCertificate();
const skip = 'skip' in certificate ? certificate.skip : false;

describe('attester keys by jku', { skip }, () => {
  let server: LocalServer;
  let attester: TestAttester;
  let instance: InstanceKey;
  let verifier: ClientAttestationVerifier;
  let listed: string;

  const attestation = (jku: string) =>
    new SignJWT({ cnf: { jwk: instance.publicJwk } })
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation+jwt', jku, kid: attester.publicJwk.kid! })
      .setSubject('c1')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(attester.privateKey);
  const verify = async (jku: string) =>
    verifier.verify(
      { attestation: await attestation(jku), pop: await signPop(instance, { aud: ISSUER }) },
      { attesters: verifier.attesters, subject: 'c1' },
    );

  before(async () => {
    attester = await makeAttester('vendor');
    instance = await makeInstanceKey();
    const cert = certificate as TestCertificate;
    server = await startServer(cert, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: [attester.publicJwk] }));
    });
    listed = `${server.origin}/jwks`;
    verifier = createClientAttestationVerifier({
      attesters: [{ id: 'vendor', jku: [listed], clientIds: ['c1'] }],
      issuer: ISSUER,
      outboundFetch: { allowAddresses: ['127.0.0.1'], ca: cert.cert },
    });
  });
  after(() => server?.close());

  it('verifies with the keys at an allow-listed jku', async () => {
    const verdict = await verify(listed);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
  });

  it('never fetches a jku off the allow-list', async () => {
    const before = server.requests.length;
    const verdict = await verify(`${server.origin}/other-jwks`);
    assert.equal(verdict.ok, false);
    assert.equal(server.requests.length, before, 'no request for an unlisted jku');
  });

  it('an attester with jku only needs https URLs', () => {
    assert.throws(
      () =>
        createClientAttestationVerifier({
          attesters: [{ id: 'v', jku: ['http://keys.example/jwks'], clientIds: ['c1'] }],
          issuer: ISSUER,
        }),
      /https/,
    );
  });
});

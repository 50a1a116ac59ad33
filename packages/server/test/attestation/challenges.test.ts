/**
 * Attestation challenges (draft-ietf-oauth-attestation-based-client-auth-10 §6) through the
 * reference server: the challenge endpoint, the `use_attestation_challenge` answer with a fresh
 * challenge in its header, and a retry that carries it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/reference-server.js';
import {
  makeAttester,
  makeInstanceKey,
  postForm,
  signAttestation,
  signPop,
  type InstanceKey,
  type TestAttester,
} from './attestation-support.js';

describe('attestation challenges at the reference server', () => {
  let dir: string;
  let server: TestServer;
  let url: string;
  let attester: TestAttester;
  let instance: InstanceKey;
  let clientId: string;

  const tokenRequest = async (challenge?: string) =>
    postForm(
      `${url}/token`,
      { grant_type: 'client_credentials' },
      {
        'OAuth-Client-Attestation': await signAttestation(attester, instance, { sub: clientId }),
        'OAuth-Client-Attestation-PoP': await signPop(instance, {
          aud: url,
          ...(challenge !== undefined ? { challenge } : {}),
        }),
      },
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attest-challenge-'));
    attester = await makeAttester('vendor');
    instance = await makeInstanceKey();
    const file = join(dir, 'attesters.json');
    await writeFile(
      file,
      JSON.stringify({ attesters: [{ id: 'vendor', jwks: { keys: [attester.publicJwk] }, softwareIds: ['app'] }] }),
    );
    server = await startTestServer({
      env: {
        DCR_ATTESTERS: file,
        DCR_ATTESTATION_CHALLENGE_SECRET: 'a-challenge-secret-of-at-least-32-characters',
        DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
      },
    });
    url = server.url;
    const response = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        software_id: 'app',
        redirect_uris: ['https://app.example/cb'],
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'attest_jwt_client_auth',
      }),
    });
    const registered = (await response.json()) as Record<string, any>;
    assert.equal(response.status, 201, JSON.stringify(registered));
    clientId = registered.client_id;
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('metadata names the challenge endpoint, which answers POST with a no-store challenge', async () => {
    const metadata = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      any
    >;
    assert.equal(metadata.challenge_endpoint, `${url}/attestation/challenge`);
    const response = await fetch(metadata.challenge_endpoint, { method: 'POST' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as Record<string, any>;
    assert.equal(typeof body.attestation_challenge, 'string');
    assert.ok(body.attestation_challenge.length > 16, 'body.attestation_challenge.length > 16');
    const get = await fetch(metadata.challenge_endpoint);
    assert.equal(get.status, 405);
    assert.equal(((await get.json()) as Record<string, any>).error, 'invalid_request');
  });

  it('a PoP without the challenge gets use_attestation_challenge and a fresh one; the retry with it succeeds', async () => {
    const first = await tokenRequest();
    assert.equal(first.status, 400, JSON.stringify(first.body));
    assert.equal(first.body.error, 'use_attestation_challenge');
    const challenge = first.headers['oauth-client-attestation-challenge'];
    assert.equal(typeof challenge, 'string');
    const retry = await tokenRequest(challenge as string);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    // §6.2: the answer carries the next challenge, which the following request may use.
    const next = retry.headers['oauth-client-attestation-challenge'];
    assert.equal(typeof next, 'string');
    assert.equal((await tokenRequest(next as string)).status, 200);
  });

  it('a challenge from the endpoint is accepted; a forged or stale-looking one is not', async () => {
    const issued = (await (await fetch(`${url}/attestation/challenge`, { method: 'POST' })).json()) as Record<
      string,
      any
    >;
    assert.equal((await tokenRequest(issued.attestation_challenge)).status, 200);
    const [step, mac] = (issued.attestation_challenge as string).split('.');
    const forged = `${step}.${mac!.slice(0, -2)}${mac!.endsWith('AA') ? 'BB' : 'AA'}`;
    const refused = await tokenRequest(forged);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'use_attestation_challenge');
    const old = `${(Number.parseInt(step!, 36) - 100).toString(36)}.${mac}`;
    assert.equal((await tokenRequest(old)).body.error, 'use_attestation_challenge');
  });
});

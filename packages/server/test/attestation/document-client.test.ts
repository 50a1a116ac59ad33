/**
 * A Client ID Metadata Document client that authenticates with a client attestation
 * (draft-ietf-oauth-attestation-based-client-auth-10): the document declares
 * attest_jwt_client_auth, the attester lists the document's URL (its client_id), and the
 * reference server authenticates it at /token by the two headers. A bogus code then fails as
 * invalid_grant (the client got past authentication); a failed authentication is invalid_client.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { countSkippedSuite } from '../../../oauth-dcr/test/support/services.js';
import {
  type DocumentHost,
  type SpawnedServer,
  spawnReferenceServer,
  startDocumentHost,
} from '../support/local-documents.js';
import {
  makeAttester,
  makeInstanceKey,
  postForm,
  signAttestation,
  signPop,
  type InstanceKey,
  type TestAttester,
} from './attestation-support.js';

const documents = await startDocumentHost();
if ('skip' in documents) countSkippedSuite('the attested metadata document suite', documents.skip);

describe('a metadata document client authenticated by attestation', { skip: 'skip' in documents }, () => {
  const host = documents as DocumentHost;
  let dir: string;
  let server: SpawnedServer;
  let vendor: TestAttester;
  let stranger: TestAttester;
  let instance: InstanceKey;
  let clientId: string;

  before(async () => {
    [vendor, stranger] = await Promise.all([makeAttester('vendor'), makeAttester('stranger')]);
    instance = await makeInstanceKey();
    clientId = host.serveDocument('/attested-client.json', {
      client_name: 'Attested desktop app',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'attest_jwt_client_auth',
    });
    dir = await mkdtemp(join(tmpdir(), 'attest-document-'));
    const attesters = join(dir, 'attesters.json');
    await writeFile(
      attesters,
      JSON.stringify({
        attesters: [
          { id: 'vendor', jwks: { keys: [vendor.publicJwk] }, clientIds: [clientId] },
          {
            id: 'stranger',
            jwks: { keys: [stranger.publicJwk] },
            clientIds: ['https://elsewhere.example/client.json'],
          },
        ],
      }),
    );
    server = await spawnReferenceServer(host.certificate, { DCR_ATTESTERS: attesters });
  });
  after(async () => {
    await server?.stop();
    await host.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const exchangeBogusCode = async (attester: TestAttester) =>
    postForm(
      `${server.url}/token`,
      { grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: 'http://127.0.0.1/callback' },
      {
        'OAuth-Client-Attestation': await signAttestation(attester, instance, { sub: clientId }),
        'OAuth-Client-Attestation-PoP': await signPop(instance, { aud: server.url }),
      },
    );

  it('authenticates it from the attestation alone (its sub is the document URL)', async () => {
    const answer = await exchangeBogusCode(vendor);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.error, 'invalid_grant');
  });

  it('refuses an attester that does not vouch for this document', async () => {
    const answer = await exchangeBogusCode(stranger);
    assert.equal(answer.status, 401, JSON.stringify(answer.body));
    assert.equal(answer.body.error, 'invalid_client');
  });

  it('refuses the document client without an attestation', async () => {
    const answer = await postForm(`${server.url}/token`, {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: 'not-a-code',
      redirect_uri: 'http://127.0.0.1/callback',
    });
    assert.equal(answer.status, 401, JSON.stringify(answer.body));
    assert.equal(answer.body.error, 'invalid_client');
  });
});

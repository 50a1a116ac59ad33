/**
 * Client attestation (draft-ietf-oauth-attestation-based-client-auth-10) through the reference
 * server over HTTP, on SQLite and (with DCR_TEST_POSTGRES_URL) PostgreSQL: registration admitted
 * by a trusted attester, the token endpoint's checks and errors, the PoP jti used once across
 * two instances on one database, refresh tokens bound to the instance key, and the metadata.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { requireService } from '../../../oauth-dcr/test/support/services.js';
import { authorizationUrl, BrowserlessUser, pkcePair } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';
import {
  makeAttester,
  makeInstanceKey,
  postForm,
  signAttestation,
  signPop,
  unsignedJwt,
  type InstanceKey,
  type TestAttester,
} from './attestation-support.js';

const REDIRECT = 'https://wallet.example/cb';
const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
const backends = [
  { name: 'sqlite', shared: (dir: string) => ({ DCR_STORE: 'sqlite', DATABASE_PATH: join(dir, 'shared.db') }) },
  ...(postgresUrl
    ? [
        {
          name: 'postgres',
          shared: () => ({
            DCR_STORE: 'postgres',
            DATABASE_URL: postgresUrl,
            DATABASE_SCHEMA: `attest_${randomBytes(5).toString('hex')}`,
          }),
        },
      ]
    : []),
];

for (const backend of backends) {
  describe(`client attestation at the reference server (${backend.name})`, () => {
    let dir: string;
    let env: Record<string, string>;
    let server: TestServer;
    let second: TestServer;
    let url: string;
    let trusted: TestAttester;
    let stranger: TestAttester;
    let other: TestAttester;
    let instance: InstanceKey;
    let clientId: string;
    let registrationPop: string;

    const headersFor = async (attestation: string, pop?: string) => ({
      'OAuth-Client-Attestation': attestation,
      'OAuth-Client-Attestation-PoP': pop ?? (await signPop(instance, { aud: url })),
    });
    const attest = (sub = clientId, key = instance) => signAttestation(trusted, key, { sub });
    const clientCredentials = async (headers: Record<string, string | string[]>, form: Record<string, string> = {}) =>
      postForm(`${url}/token`, { grant_type: 'client_credentials', ...form }, headers);

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'attest-'));
      [trusted, stranger, other] = await Promise.all([
        makeAttester('trusted'),
        makeAttester('stranger'),
        makeAttester('other'),
      ]);
      instance = await makeInstanceKey();
      const file = join(dir, 'attesters.json');
      await writeFile(
        file,
        JSON.stringify({
          attesters: [
            { id: 'trusted', jwks: { keys: [trusted.publicJwk] }, softwareIds: ['wallet-app'] },
            { id: 'other', jwks: { keys: [other.publicJwk] }, softwareIds: ['other-app'] },
          ],
          attestationMaxAgeSeconds: 86400,
        }),
      );
      env = {
        ...backend.shared(dir),
        DCR_ATTESTERS: file,
        DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
      };
      server = await startTestServer({ env });
      url = server.url;
      // The second instance serves the same issuer on the same database.
      second = await startTestServer({ env: { ...env, ISSUER: url } });

      // Registration: the attestation's sub is the software_id; the PoP's aud is the issuer.
      registrationPop = await signPop(instance, { aud: url });
      const registration = await fetch(`${url}/register`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(await headersFor(await signAttestation(trusted, instance, { sub: 'wallet-app' }), registrationPop)),
        },
        body: JSON.stringify({
          client_name: 'Wallet',
          software_id: 'wallet-app',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
          token_endpoint_auth_method: 'attest_jwt_client_auth',
        }),
      });
      const registered = (await registration.json()) as Record<string, any>;
      assert.equal(registration.status, 201, JSON.stringify(registered));
      assert.equal(registered.token_endpoint_auth_method, 'attest_jwt_client_auth');
      assert.equal(registered.client_secret, undefined, 'no secret for an attestation client');
      clientId = registered.client_id;
    });

    after(async () => {
      await second?.stop();
      await server?.stop();
      await rm(dir, { recursive: true, force: true });
      if (backend.name === 'postgres') {
        const client = new pg.Client({ connectionString: postgresUrl });
        await client.connect();
        await client.query(`drop schema if exists "${env.DATABASE_SCHEMA}" cascade`).finally(() => client.end());
      }
    });

    it('metadata lists the method, both algorithm lists, and no challenge endpoint without challenges', async () => {
      const metadata = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as Record<
        string,
        any
      >;
      assert.ok(
        metadata.token_endpoint_auth_methods_supported.includes('attest_jwt_client_auth'),
        "metadata.token_endpoint_auth_methods_supported.includes('attest_jwt_client_auth')",
      );
      assert.ok(
        metadata.client_attestation_signing_alg_values_supported.includes('ES256'),
        "metadata.client_attestation_signing_alg_values_supported.includes('ES256')",
      );
      assert.ok(
        metadata.client_attestation_pop_signing_alg_values_supported.includes('ES256'),
        "metadata.client_attestation_pop_signing_alg_values_supported.includes('ES256')",
      );
      assert.ok(
        !metadata.client_attestation_pop_signing_alg_values_supported.includes('none'),
        "!metadata.client_attestation_pop_signing_alg_values_supported.includes('none')",
      );
      assert.equal(metadata.challenge_endpoint, undefined);
      // /revoke and /introspect authenticate clients as /token does.
      assert.ok(
        metadata.revocation_endpoint_auth_methods_supported.includes('attest_jwt_client_auth'),
        'revocation lists attest_jwt_client_auth',
      );
    });

    it('a registration with an attestation for another software_id is refused', async () => {
      const response = await fetch(`${url}/register`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(await headersFor(await signAttestation(trusted, instance, { sub: 'wallet-app' }))),
        },
        body: JSON.stringify({
          software_id: 'someone-else',
          redirect_uris: [REDIRECT],
          token_endpoint_auth_method: 'attest_jwt_client_auth',
        }),
      });
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as Record<string, any>).error, 'invalid_client_metadata');
    });

    it('valid attestation + PoP gives tokens; the client is found from sub without client_id', async () => {
      const answer = await clientCredentials(await headersFor(await attest()));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.ok(answer.body.access_token, 'answer.body.access_token');
      const withId = await clientCredentials(await headersFor(await attest()), { client_id: clientId });
      assert.equal(withId.status, 200, JSON.stringify(withId.body));
    });

    it('wrong typ on either JWT, alg none, an untrusted key, an attester not trusted for the client: 401', async () => {
      const refusals = [
        await headersFor(await signAttestation(trusted, instance, { sub: clientId, typ: 'JWT' })),
        await headersFor(await attest(), await signPop(instance, { aud: url, typ: 'JWT' })),
        await headersFor(
          unsignedJwt(
            { typ: 'oauth-client-attestation+jwt' },
            { sub: clientId, exp: Math.floor(Date.now() / 1000) + 600, cnf: { jwk: instance.publicJwk } },
          ),
        ),
        await headersFor(await signAttestation(trusted, instance, { sub: clientId, signer: stranger.privateKey })),
        await headersFor(await signAttestation(other, instance, { sub: clientId })),
      ];
      for (const [index, headers] of refusals.entries()) {
        const answer = await clientCredentials(headers);
        assert.equal(answer.status, 401, `case ${index}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error, 'invalid_client', `case ${index}`);
      }
    });

    it('a private key in cnf, or a PoP signed by another key: 401', async () => {
      const withPrivate = await signAttestation(trusted, instance, { sub: clientId, cnf: instance.privateJwk });
      const refused = await clientCredentials(await headersFor(withPrivate));
      assert.equal(refused.status, 401);
      assert.match(refused.body.error_description, /public key/);
      const otherKey = await makeInstanceKey();
      const popByOther = await signPop(otherKey, { aud: url });
      assert.equal((await clientCredentials(await headersFor(await attest(), popByOther))).status, 401);
    });

    it('sub other than client_id: 401; two OAuth-Client-Attestation headers: 400 invalid_request', async () => {
      // Another client the same attester vouches for: an attestation for one is not the other's.
      const response = await fetch(`${url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          software_id: 'wallet-app',
          redirect_uris: [REDIRECT],
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'attest_jwt_client_auth',
        }),
      });
      const sibling = (await response.json()) as Record<string, any>;
      assert.equal(response.status, 201, JSON.stringify(sibling));
      const mismatch = await clientCredentials(await headersFor(await attest()), { client_id: sibling.client_id });
      assert.equal(mismatch.status, 401, JSON.stringify(mismatch.body));
      const attestation = await attest();
      const twice = await clientCredentials({
        'OAuth-Client-Attestation': [attestation, attestation],
        'OAuth-Client-Attestation-PoP': await signPop(instance, { aud: url }),
      });
      assert.equal(twice.status, 400);
      assert.equal(twice.body.error, 'invalid_request');
    });

    it('expired attestation: 401; older than the freshness policy: use_fresh_attestation', async () => {
      const hourAgo = Math.floor(Date.now() / 1000) - 3 * 3600;
      const expired = await signAttestation(trusted, instance, { sub: clientId, iat: hourAgo, exp: hourAgo + 60 });
      assert.equal((await clientCredentials(await headersFor(expired))).status, 401);
      const dayAgo = Math.floor(Date.now() / 1000) - 2 * 86400;
      const stale = await signAttestation(trusted, instance, { sub: clientId, iat: dayAgo, exp: dayAgo + 7 * 86400 });
      const answer = await clientCredentials(await headersFor(stale));
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error, 'use_fresh_attestation');
    });

    it('PoP aud = token endpoint or an array, missing jti or iat, iat 10 minutes old: 401', async () => {
      const old = Math.floor(Date.now() / 1000) - 600;
      const pops = [
        await signPop(instance, { aud: `${url}/token` }),
        await signPop(instance, { aud: [url, `${url}/token`] }),
        await signPop(instance, { aud: url, jti: null }),
        await signPop(instance, { aud: url, iat: null }),
        await signPop(instance, { aud: url, iat: old }),
      ];
      for (const [index, pop] of pops.entries()) {
        const answer = await clientCredentials(await headersFor(await attest(), pop));
        assert.equal(answer.status, 401, `case ${index}: ${JSON.stringify(answer.body)}`);
      }
    });

    it('the same PoP twice fails the second time, also at the other instance', async () => {
      const headers = await headersFor(await attest());
      assert.equal((await clientCredentials(headers)).status, 200);
      const again = await postForm(`${second.url}/token`, { grant_type: 'client_credentials' }, headers);
      assert.equal(again.status, 401, JSON.stringify(again.body));
      assert.equal((await clientCredentials(headers)).status, 401);
      // The PoP that went with the registration is spent too, though the attestation's sub differs.
      const replayed = await clientCredentials(await headersFor(await attest(), registrationPop));
      assert.equal(replayed.status, 401, JSON.stringify(replayed.body));
      assert.match(replayed.body.error_description, /already used/);
    });

    it('attestation headers plus client_secret or Basic: invalid_request', async () => {
      const headers = await headersFor(await attest());
      const posted = await clientCredentials(headers, { client_id: clientId, client_secret: 'x'.repeat(43) });
      assert.equal(posted.status, 400);
      assert.equal(posted.body.error, 'invalid_request');
      const basic = await clientCredentials({
        ...(await headersFor(await attest())),
        authorization: `Basic ${Buffer.from(`${clientId}:secret`).toString('base64')}`,
      });
      assert.equal(basic.status, 400);
      assert.equal(basic.body.error, 'invalid_request');
    });

    it('/revoke authenticates with an attestation too, the client named by sub; mixed or bad: refused', async () => {
      const issued = await clientCredentials(await headersFor(await attest()));
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      const token = issued.body.access_token as string;
      const forged = await postForm(
        `${url}/revoke`,
        { token },
        await headersFor(await signAttestation(trusted, instance, { sub: clientId, signer: stranger.privateKey })),
      );
      assert.equal(forged.status, 401, JSON.stringify(forged.body));
      const mixed = await postForm(
        `${url}/revoke`,
        { token, client_id: clientId, client_secret: 'x'.repeat(43) },
        await headersFor(await attest()),
      );
      assert.equal(mixed.status, 400);
      assert.equal(mixed.body.error, 'invalid_request');
      const ok = await fetch(`${url}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(await headersFor(await attest())) },
        body: new URLSearchParams({ token }),
      });
      assert.equal(ok.status, 200, await ok.text());
    });

    it('a client registered with another method cannot use an attestation', async () => {
      const response = await fetch(`${url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: [REDIRECT],
          software_id: 'wallet-app',
          grant_types: ['client_credentials'],
        }),
      });
      const secretClient = (await response.json()) as Record<string, any>;
      assert.equal(response.status, 201);
      const answer = await clientCredentials(await headersFor(await attest(secretClient.client_id)));
      assert.equal(answer.status, 401);
      assert.match(answer.body.error_description, /attest_jwt_client_auth/);
    });

    it('a client of the attested tier goes through consent and exchanges its code with an attestation', async () => {
      const { verifier, challenge } = pkcePair();
      const back = await new BrowserlessUser().authorize(
        authorizationUrl(url, {
          client_id: clientId,
          redirect_uri: REDIRECT,
          state: 's',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
      );
      const code = back.searchParams.get('code');
      assert.ok(code, back.href);
      const params = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT };
      // Without the attestation, the code's client cannot authenticate at all.
      const bare = await postForm(`${url}/token`, { ...params, client_id: clientId });
      assert.equal(bare.status, 401, JSON.stringify(bare.body));
      const exchange = await postForm(`${url}/token`, params, await headersFor(await attest()));
      assert.equal(exchange.status, 200, JSON.stringify(exchange.body));
    });

    it('refresh tokens are bound to the instance key: another key gets invalid_grant, the same key succeeds', async () => {
      // A client registered without an attestation (open registration) that declares the method and
      // a software_id the attester vouches for at the token endpoint.
      const response = await fetch(`${url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'Wallet web',
          software_id: 'wallet-app',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'attest_jwt_client_auth',
        }),
      });
      const webClient = (await response.json()) as Record<string, any>;
      assert.equal(response.status, 201, JSON.stringify(webClient));
      const webId = webClient.client_id as string;
      const attest = (sub = webId, key = instance) => signAttestation(trusted, key, { sub });
      const { verifier, challenge } = pkcePair();
      const back = await new BrowserlessUser().authorize(
        authorizationUrl(url, {
          client_id: webId,
          redirect_uri: REDIRECT,
          state: 's',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
      );
      const code = back.searchParams.get('code')!;
      const exchange = await postForm(
        `${url}/token`,
        { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT },
        await headersFor(await attest()),
      );
      assert.equal(exchange.status, 200, JSON.stringify(exchange.body));
      const refreshToken = exchange.body.refresh_token as string;
      assert.ok(refreshToken, 'refreshToken');

      const otherInstance = await makeInstanceKey();
      const foreign = await postForm(
        `${url}/token`,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        {
          'OAuth-Client-Attestation': await attest(webId, otherInstance),
          'OAuth-Client-Attestation-PoP': await signPop(otherInstance, { aud: url }),
        },
      );
      assert.equal(foreign.status, 400, JSON.stringify(foreign.body));
      assert.equal(foreign.body.error, 'invalid_grant');

      const same = await postForm(
        `${second.url}/token`,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        await headersFor(await attest()),
      );
      assert.equal(same.status, 200, JSON.stringify(same.body));
    });
  });
}

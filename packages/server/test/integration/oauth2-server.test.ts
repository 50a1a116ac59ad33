import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OAuth2Server from '@node-oauth/oauth2-server';
import { createRegistration, type Registration } from 'oauth-dcr';
import { holdToRegisteredAuthMethod, oauth2ServerClients } from 'oauth-dcr/oauth2-server';
import { readClientCredentials } from 'oauth-dcr';
import { silentLogger } from '../../src/logger.js';
import { SigningKeyRing } from '../../src/signing-keys.js';
import { createModel, newGrantSubject, type ReferenceModel } from '../../src/model.js';
import { hashPassword } from '../../src/passwords.js';
import type { ServerStorage } from '../../src/storage/open-storage.js';
import type { User } from '../../src/users.js';
import { pkcePair } from '../support/oauth-flow.js';
import { storageBackends } from '../support/storage-backends.js';

/**
 * The oauth2-server model fragment (src/integrations/oauth2-server.ts), spread into the reference
 * server's model, driven through the real @node-oauth/oauth2-server v5 authorize and token
 * handlers on every storage backend. No mocks: the library decides, as it would in production.
 */
const ISSUER = 'https://as.example';
const SECRET_TTL = 3600;

for (const backend of storageBackends()) {
  describe(`oauth2-server model fragment with the real OAuth2Server (${backend.name})`, () => {
    let clock = Math.floor(Date.now() / 1000);
    let storage: ServerStorage;
    let registration: Registration;
    let model: ReferenceModel;
    let oauth: OAuth2Server;
    let user: User;

    before(async () => {
      storage = await backend.open();
      registration = createRegistration({
        store: storage.clients,
        issuer: ISSUER,
        clientSecretTtl: SECRET_TTL,
        allowedGrantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
        now: () => clock,
      });
      const keys = await SigningKeyRing.open({ store: storage.signingKeys, accessTokenTtl: 3600 });
      model = createModel({
        registration,
        tokens: storage.tokens,
        users: storage.users,
        logger: silentLogger(),
        jwt: { issuer: ISSUER, keys, lifetime: 3600 },
        offlineAccessScope: false,
      });
      oauth = new OAuth2Server({
        model,
        requireClientAuthentication: { authorization_code: false, refresh_token: false },
        allowEmptyState: true,
      });
      const record = await storage.users.upsertUser('alice', await hashPassword('pw'), clock);
      user = { id: record.id, username: record.username };
    });

    after(async () => {
      await storage.close();
      await backend.cleanup();
    });

    async function register(metadata: Record<string, unknown>): Promise<Record<string, any>> {
      const response = await registration(
        new Request(`${ISSUER}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(metadata),
        }),
      );
      const body = (await response.json()) as Record<string, any>;
      assert.equal(response.status, 201, JSON.stringify(body));
      return body;
    }

    function authorize(query: Record<string, string>): Promise<OAuth2Server.AuthorizationCode> {
      return oauth.authorize(
        new OAuth2Server.Request({ method: 'GET', headers: {}, query: { response_type: 'code', ...query }, body: {} }),
        new OAuth2Server.Response(),
        {
          authenticateHandler: {
            handle: () => newGrantSubject(user, { redirectUriSent: query.redirect_uri !== undefined, resources: [] }),
          },
        },
      );
    }

    function token(body: Record<string, string>, basic?: [string, string]): Promise<OAuth2Server.Token> {
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': '1',
      };
      if (basic) headers.authorization = `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64')}`;
      return oauth.token(
        new OAuth2Server.Request({ method: 'POST', headers, query: {}, body }),
        new OAuth2Server.Response(),
      );
    }

    async function rejects(promise: Promise<unknown>, name: string): Promise<void> {
      await assert.rejects(promise, (error: unknown) => {
        assert.ok(error instanceof OAuth2Server.OAuthError, `expected an OAuthError, got ${String(error)}`);
        assert.equal(error.name, name, error.message);
        return true;
      });
    }

    const publicClientMetadata = {
      redirect_uris: ['http://127.0.0.1:8123/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    };

    it('looks the client up with getClient(id, null) at /authorize and issues a code', async () => {
      const client = await register(publicClientMetadata);
      const { challenge } = pkcePair();
      const code = await authorize({
        client_id: client.client_id,
        redirect_uri: 'http://127.0.0.1:8123/callback',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      assert.equal(code.client.id, client.client_id);
      assert.equal(typeof code.authorizationCode, 'string');
      await rejects(
        authorize({ client_id: 'no-such-client', redirect_uri: 'http://127.0.0.1:8123/callback' }),
        'invalid_client',
      );
    });

    it('gives the library grants and redirectUris as arrays', async () => {
      const client = await register(publicClientMetadata);
      const found = await model.getClient(client.client_id, null);
      assert.ok(found);
      assert.ok(Array.isArray(found.grants));
      assert.ok(Array.isArray(found.redirectUris));
      assert.deepEqual(found.grants, ['authorization_code', 'refresh_token']);
      assert.deepEqual(found.redirectUris, ['http://127.0.0.1:8123/callback']);
    });

    it('lets a public (none) client with PKCE exchange its code and refresh', async () => {
      const client = await register(publicClientMetadata);
      const { verifier, challenge } = pkcePair();
      const code = await authorize({
        client_id: client.client_id,
        redirect_uri: 'http://127.0.0.1:8123/callback',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const issued = await token({
        grant_type: 'authorization_code',
        client_id: client.client_id,
        code: code.authorizationCode,
        code_verifier: verifier,
        redirect_uri: 'http://127.0.0.1:8123/callback',
      });
      assert.equal(typeof issued.accessToken, 'string');
      assert.equal(typeof issued.refreshToken, 'string');
      const refreshed = await token({
        grant_type: 'refresh_token',
        client_id: client.client_id,
        refresh_token: issued.refreshToken!,
      });
      assert.notEqual(refreshed.refreshToken, issued.refreshToken);
    });

    it('refuses a confidential client that sends only a PKCE verifier and no secret', async () => {
      const client = await register({
        redirect_uris: ['https://app.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      assert.equal(typeof client.client_secret, 'string');
      const { verifier, challenge } = pkcePair();
      const code = await authorize({
        client_id: client.client_id,
        redirect_uri: 'https://app.example/cb',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const exchange = {
        grant_type: 'authorization_code',
        client_id: client.client_id,
        code: code.authorizationCode,
        code_verifier: verifier,
        redirect_uri: 'https://app.example/cb',
      };
      assert.equal(await model.getClient(client.client_id, undefined), null);
      await rejects(token(exchange), 'invalid_client');
      // The code was not spent by the refused attempt: with its secret the client succeeds.
      const issued = await token(exchange, [client.client_id, client.client_secret]);
      assert.equal(typeof issued.accessToken, 'string');
    });

    it('refuses a wrong secret and an expired one', async () => {
      const client = await register({
        redirect_uris: ['https://app.example/cb'],
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['client_credentials'],
      });
      assert.equal(client.client_secret_expires_at, clock + SECRET_TTL);
      assert.ok(await model.getClient(client.client_id, client.client_secret));
      assert.equal(await model.getClient(client.client_id, 'not-the-secret'), null);
      await rejects(
        token({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: 'not-the-secret' }),
        'invalid_client',
      );
      const issued = await token({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
      });
      assert.equal(typeof issued.accessToken, 'string');

      const saved = clock;
      clock += SECRET_TTL + 1;
      try {
        assert.equal(await model.getClient(client.client_id, client.client_secret), null);
        await rejects(
          token({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret }),
          'invalid_client',
        );
      } finally {
        clock = saved;
      }
    });

    it('accepts a loopback redirect on another port, even when none was registered, and others only exactly', async () => {
      const native = await register({
        redirect_uris: ['http://127.0.0.1/callback', 'http://localhost:8080/cb', 'com.example.app:/oauth'],
        token_endpoint_auth_method: 'none',
      });
      const web = await register({
        redirect_uris: ['https://app.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      const accepted: Array<[Record<string, any>, string]> = [
        [native, 'http://127.0.0.1:49152/callback'], // RFC 8252 §7.3: the port is the app's choice
        [native, 'http://127.0.0.1/callback'],
        [native, 'http://localhost:1/cb'],
        [native, 'com.example.app:/oauth'],
        [web, 'https://app.example/cb'],
      ];
      for (const [client, redirect_uri] of accepted) {
        const code = await authorize({
          client_id: client.client_id,
          redirect_uri,
          code_challenge: pkcePair().challenge,
          code_challenge_method: 'S256',
        });
        assert.equal(code.redirectUri, redirect_uri);
      }
      const refused: Array<[Record<string, any>, string]> = [
        [native, 'http://127.0.0.1:49152/other'], // path differs
        [native, 'http://[::1]:49152/callback'], // another loopback host than registered
        [native, 'com.example.app:/oauth/'],
        [web, 'https://app.example:8443/cb'], // the port matters off loopback
        [web, 'https://app.example/cb/'], // exact string comparison
        [web, 'https://app.example/cb?x=1'],
      ];
      for (const [client, redirect_uri] of refused) {
        await rejects(authorize({ client_id: client.client_id, redirect_uri }), 'invalid_client');
      }
    });

    it('keeps the granted scope within what the client registered', async () => {
      const client = await register({ ...publicClientMetadata, scope: 'read write' });
      const { challenge } = pkcePair();
      const base = {
        client_id: client.client_id,
        redirect_uri: 'http://127.0.0.1:8123/callback',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      };
      assert.deepEqual((await authorize({ ...base, scope: 'read admin' })).scope, ['read']);
      assert.deepEqual((await authorize({ ...base })).scope, ['read', 'write']);
      await rejects(authorize({ ...base, scope: 'admin' }), 'invalid_scope');
    });

    it('holds grants and scopes to the tier as the policy says now, not as it said at registration', async () => {
      const client = await register({
        ...publicClientMetadata,
        scope: 'read admin',
        grant_types: ['authorization_code', 'refresh_token'],
      });
      const narrowed = createRegistration({
        store: storage.clients,
        issuer: ISSUER,
        allowedGrantTypes: ['authorization_code'],
        tiers: { anonymous: { scopesSupported: ['read'] } },
        now: () => clock,
      });
      const fragment = oauth2ServerClients(narrowed);
      const host = await fragment.getClient(client.client_id, null);
      assert.deepEqual(host?.grants, ['authorization_code'], 'refresh_token no longer allowed');
      assert.deepEqual(await fragment.validateScope(user, host!, ['admin']), false, 'admin is outside the tier');
      assert.deepEqual(await fragment.validateScope(user, host!, undefined), ['read']);
    });

    /**
     * A library user's own token endpoint, as the integration's documentation shows it: the
     * credentials read from the raw request, the model held to the registered method for this
     * request, and the Authorization header left for the library to parse.
     */
    async function userTokenEndpoint(body: Record<string, string>, basic?: [string, string]) {
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': '1',
      };
      if (basic) headers.authorization = `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64')}`;
      const credentials = readClientCredentials({ authorization: headers.authorization, body });
      if (credentials.kind === 'invalid') return { status: 400, error: 'invalid_request', challenge: undefined };
      const options =
        credentials.kind === 'credentials' ? { model: holdToRegisteredAuthMethod(model, credentials.method) } : {};
      const response = new OAuth2Server.Response();
      try {
        await oauth.token(
          new OAuth2Server.Request({ method: 'POST', headers, query: {}, body }),
          response,
          options as OAuth2Server.TokenOptions,
        );
        return { status: 200, error: undefined, challenge: undefined };
      } catch (error) {
        assert.ok(error instanceof OAuth2Server.OAuthError, String(error));
        return {
          status: error.code,
          error: error.name,
          challenge: response.get('WWW-Authenticate') as string | undefined,
        };
      }
    }

    it("holds each client to its registered token_endpoint_auth_method in a library user's token endpoint", async () => {
      const confidential = { redirect_uris: ['https://app.example/cb'], grant_types: ['client_credentials'] };
      const basicClient = await register({ ...confidential, token_endpoint_auth_method: 'client_secret_basic' });
      const postClient = await register({ ...confidential, token_endpoint_auth_method: 'client_secret_post' });
      const publicClient = await register(publicClientMetadata);
      const { verifier, challenge } = pkcePair();
      const code = await authorize({
        client_id: publicClient.client_id,
        redirect_uri: 'http://127.0.0.1:8123/callback',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const exchange = {
        grant_type: 'authorization_code',
        code: code.authorizationCode,
        code_verifier: verifier,
        redirect_uri: 'http://127.0.0.1:8123/callback',
      };
      const asPost = (c: Record<string, any>, secret = c.client_secret as string) => ({
        client_id: c.client_id as string,
        client_secret: secret,
      });
      const cases: Array<{
        name: string;
        body: Record<string, string>;
        basic?: [string, string];
        status: number;
        error?: string;
      }> = [
        {
          name: 'basic client over Basic',
          body: { grant_type: 'client_credentials' },
          basic: [basicClient.client_id, basicClient.client_secret],
          status: 200,
        },
        // The library answers invalid_client with 400, or 401 when the Authorization header was used (RFC 6749 §5.2).
        {
          name: 'basic client in the body',
          body: { grant_type: 'client_credentials', ...asPost(basicClient) },
          status: 400,
          error: 'invalid_client',
        },
        {
          name: 'post client in the body',
          body: { grant_type: 'client_credentials', ...asPost(postClient) },
          status: 200,
        },
        {
          name: 'post client over Basic',
          body: { grant_type: 'client_credentials' },
          basic: [postClient.client_id, postClient.client_secret],
          status: 401,
          error: 'invalid_client',
        },
        {
          name: 'post client, both',
          body: { grant_type: 'client_credentials', client_secret: postClient.client_secret },
          basic: [postClient.client_id, postClient.client_secret],
          status: 400,
          error: 'invalid_request',
        },
        // The refused attempts below do not spend the public client's code.
        {
          name: 'public client with a secret',
          body: { ...exchange, ...asPost(publicClient, 'x') },
          status: 400,
          error: 'invalid_client',
        },
        {
          name: 'public client over Basic, no secret',
          body: exchange,
          basic: [publicClient.client_id, ''],
          status: 401,
          error: 'invalid_client',
        },
        { name: 'public client by client_id', body: { ...exchange, client_id: publicClient.client_id }, status: 200 },
      ];
      for (const c of cases) {
        const answer = await userTokenEndpoint(c.body, c.basic);
        assert.equal(answer.status, c.status, c.name);
        assert.equal(answer.error, c.error, c.name);
        // RFC 6749 §5.2: the library itself answers a Basic attempt's invalid_client with 401 and a challenge.
        if (c.error === 'invalid_client') assert.equal(answer.challenge !== undefined, c.basic !== undefined, c.name);
      }
    });

    it('records when the client was last used', async () => {
      const client = await register({
        redirect_uris: ['https://app.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
      });
      assert.equal((await storage.clients.findClient(client.client_id))?.lastUsedAt, undefined);
      clock += 7;
      await token({ grant_type: 'client_credentials' }, [client.client_id, client.client_secret]);
      assert.equal((await storage.clients.findClient(client.client_id))?.lastUsedAt, clock);
    });
  });
}

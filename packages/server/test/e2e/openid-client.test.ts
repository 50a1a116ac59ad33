import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { BrowserlessUser } from '../support/oauth-flow.js';
import { startTestServer, DEMO_USERNAME, type TestServer } from '../support/reference-server.js';

/**
 * openid-client v6 (panva), a client nobody on this team wrote, against the running reference
 * server through its own API only: RFC 8414 discovery, RFC 7591 registration, authorization code
 * with PKCE (RFC 9207 `iss` checked by the library), refresh, the protected resource, revocation.
 * The login and consent pages are answered by BrowserlessUser (fetch, cookies, parsed forms).
 */
let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

// The server runs on plain http on loopback; openid-client refuses that unless told.
const options: oidc.DynamicClientRegistrationRequestOptions = {
  execute: [oidc.allowInsecureRequests],
  algorithm: 'oauth2',
};

async function authorizeAndExchange(config: oidc.Configuration, redirectUri: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const callback = await new BrowserlessUser().authorize(url);
  assert.equal(callback.searchParams.get('iss'), server.url);
  return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
}

async function userinfo(config: oidc.Configuration, accessToken: string): Promise<Record<string, unknown>> {
  const response = await oidc.fetchProtectedResource(config, accessToken, new URL(`${server.url}/userinfo`), 'GET');
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, unknown>;
}

describe('openid-client v6 against the reference server', () => {
  it('registers a public client, then runs code + PKCE, refresh and the protected resource', async () => {
    const redirectUri = 'http://127.0.0.1:53682/callback';
    const config = await oidc.dynamicClientRegistration(
      new URL(server.url),
      {
        client_name: 'openid-client e2e (public)',
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
      },
      oidc.None(),
      options,
    );
    const metadata = config.clientMetadata();
    assert.equal(typeof metadata.client_id, 'string');
    assert.equal(metadata.client_secret, undefined);
    assert.equal(config.serverMetadata().issuer, server.url);

    const tokens = await authorizeAndExchange(config, redirectUri);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'profile');
    assert.ok(tokens.refresh_token);
    const me = await userinfo(config, tokens.access_token);
    assert.equal(me.preferred_username, DEMO_USERNAME);
    assert.equal(me.client_id, metadata.client_id);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate');
    assert.equal((await userinfo(config, refreshed.access_token)).sub, me.sub);

    // The rotated-out refresh token is dead.
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (error: unknown) => {
      assert.ok(error instanceof oidc.ResponseBodyError);
      assert.equal(error.error, 'invalid_grant');
      return true;
    });
  });

  it('registers a confidential client (client_secret_basic) and revokes its tokens', async () => {
    const redirectUri = 'https://app.example/callback';
    const config = await oidc.dynamicClientRegistration(
      new URL(server.url),
      {
        client_name: 'openid-client e2e (confidential)',
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
      },
      undefined,
      options,
    );
    const metadata = config.clientMetadata();
    assert.equal(typeof metadata.client_secret, 'string');
    // dynamicClientRegistration defaults to client_secret_post; use what was registered.
    const basic = new oidc.Configuration(
      config.serverMetadata(),
      metadata.client_id,
      metadata,
      oidc.ClientSecretBasic(metadata.client_secret as string),
    );
    oidc.allowInsecureRequests(basic);

    const tokens = await authorizeAndExchange(basic, redirectUri);
    await userinfo(basic, tokens.access_token);

    await oidc.tokenRevocation(basic, tokens.refresh_token!);
    // Revoking the refresh token revoked its grant's access tokens too (RFC 7009 §2.1).
    await assert.rejects(
      oidc.fetchProtectedResource(basic, tokens.access_token, new URL(`${server.url}/userinfo`), 'GET'),
      (error: unknown) => {
        assert.ok(error instanceof oidc.WWWAuthenticateChallengeError);
        assert.equal(error.status, 401);
        assert.equal(error.cause[0]?.parameters.error, 'invalid_token');
        return true;
      },
    );
  });
});

describe('openid-client v6: client_credentials, where the deployment enables it', () => {
  let enabled: TestServer;
  before(async () => {
    enabled = await startTestServer({
      env: { DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials' },
    });
  });
  after(() => enabled.stop());

  it('issues a token to a client that registered the grant, and to no other', async () => {
    const config = await oidc.dynamicClientRegistration(
      new URL(enabled.url),
      {
        client_name: 'openid-client e2e (service)',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      undefined,
      options,
    );
    assert.ok(config.serverMetadata().grant_types_supported?.includes('client_credentials'));
    const tokens = await oidc.clientCredentialsGrant(config);
    assert.equal(tokens.refresh_token, undefined);
    const response = await oidc.fetchProtectedResource(
      config,
      tokens.access_token,
      new URL(`${enabled.url}/userinfo`),
      'GET',
    );
    const me = (await response.json()) as Record<string, unknown>;
    assert.equal(me.sub, config.clientMetadata().client_id, 'the client acts for itself');
    assert.equal(me.preferred_username, undefined);

    const codeOnly = await oidc.dynamicClientRegistration(
      new URL(enabled.url),
      {
        redirect_uris: ['https://app.example/cb'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      undefined,
      options,
    );
    await assert.rejects(oidc.clientCredentialsGrant(codeOnly), (error: unknown) => {
      assert.ok(error instanceof oidc.ResponseBodyError);
      assert.equal(error.error, 'unauthorized_client');
      return true;
    });
  });
});

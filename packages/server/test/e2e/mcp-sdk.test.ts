import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  auth,
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  exchangeAuthorization,
  extractWWWAuthenticateParams,
  refreshAuthorization,
  registerClient,
  startAuthorization,
  type OAuthClientProvider,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { BrowserlessUser } from '../support/oauth-flow.js';
import { startTestServer, DEMO_USERNAME, type TestServer } from '../support/reference-server.js';

/**
 * The MCP TypeScript SDK's client auth module, as MCP clients (VS Code, Claude, Cursor...) run it:
 * a 401 from the protected resource -> RFC 9728 resource metadata -> RFC 8414 server metadata ->
 * RFC 7591 registration with a loopback redirect -> authorization code + PKCE -> token -> refresh.
 * The app registers one loopback port and comes back on another, as native apps do (RFC 8252 §7.3).
 */
let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

const REGISTERED_REDIRECT = 'http://127.0.0.1:33418/callback';
const RUNTIME_REDIRECT = 'http://127.0.0.1:47001/callback';

/** An OAuthClientProvider that keeps everything in memory and records where it was sent. */
class InMemoryProvider implements OAuthClientProvider {
  information: OAuthClientInformationMixed | undefined;
  savedTokens: OAuthTokens | undefined;
  verifier: string | undefined;
  authorizationUrl: URL | undefined;

  get redirectUrl(): string {
    return RUNTIME_REDIRECT;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP SDK e2e',
      redirect_uris: [REGISTERED_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    return 'mcp-state';
  }
  clientInformation() {
    return this.information;
  }
  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.information = information;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.savedTokens = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }
}

async function whoAmI(accessToken: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, unknown>;
}

describe('MCP TypeScript SDK client auth against the reference server', () => {
  it('runs auth(): discovery from a 401, registration, authorization on another loopback port, token, refresh', async () => {
    const serverUrl = `${server.url}/userinfo`;
    const unauthorized = await fetch(serverUrl);
    assert.equal(unauthorized.status, 401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(unauthorized);
    assert.equal(resourceMetadataUrl?.href, `${server.url}/.well-known/oauth-protected-resource`);

    const provider = new InMemoryProvider();
    assert.equal(await auth(provider, { serverUrl, resourceMetadataUrl }), 'REDIRECT');
    const registered = provider.information as Record<string, unknown>;
    assert.equal(typeof registered.client_id, 'string');
    assert.deepEqual(registered.redirect_uris, [REGISTERED_REDIRECT]);

    const authorizationUrl = provider.authorizationUrl!;
    assert.equal(authorizationUrl.origin + authorizationUrl.pathname, `${server.url}/authorize`);
    assert.equal(authorizationUrl.searchParams.get('redirect_uri'), RUNTIME_REDIRECT);
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorizationUrl.searchParams.get('resource'), server.url);

    const callback = await new BrowserlessUser().authorize(authorizationUrl);
    assert.equal(callback.origin + callback.pathname, RUNTIME_REDIRECT, 'back on the port the app listens on now');
    assert.equal(callback.searchParams.get('state'), 'mcp-state');
    assert.equal(callback.searchParams.get('iss'), server.url);
    const code = callback.searchParams.get('code');
    assert.ok(code);

    assert.equal(await auth(provider, { serverUrl, resourceMetadataUrl, authorizationCode: code }), 'AUTHORIZED');
    const first = provider.savedTokens!;
    assert.equal(first.token_type.toLowerCase(), 'bearer');
    assert.ok(first.refresh_token);
    assert.equal((await whoAmI(first.access_token)).preferred_username, DEMO_USERNAME);

    // With a refresh token stored, auth() refreshes instead of starting over.
    assert.equal(await auth(provider, { serverUrl, resourceMetadataUrl }), 'AUTHORIZED');
    const second = provider.savedTokens!;
    assert.notEqual(second.access_token, first.access_token);
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.equal((await whoAmI(second.access_token)).client_id, registered.client_id);
  });

  it('runs the same flow step by step with the lower-level functions', async () => {
    const resourceMetadata = await discoverOAuthProtectedResourceMetadata(server.url);
    assert.deepEqual(resourceMetadata.authorization_servers, [server.url]);
    const authorizationServer = resourceMetadata.authorization_servers![0]!;
    const metadata = await discoverAuthorizationServerMetadata(authorizationServer);
    assert.ok(metadata);
    assert.equal(metadata.issuer, server.url);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.ok(metadata.token_endpoint_auth_methods_supported?.includes('none'));

    const clientInformation = await registerClient(authorizationServer, {
      metadata,
      clientMetadata: new InMemoryProvider().clientMetadata,
    });
    const { authorizationUrl, codeVerifier } = await startAuthorization(authorizationServer, {
      metadata,
      clientInformation,
      redirectUrl: RUNTIME_REDIRECT,
      resource: new URL(resourceMetadata.resource),
    });
    const callback = await new BrowserlessUser().authorize(authorizationUrl);
    const tokens = await exchangeAuthorization(authorizationServer, {
      metadata,
      clientInformation,
      authorizationCode: callback.searchParams.get('code')!,
      codeVerifier,
      redirectUri: RUNTIME_REDIRECT,
      resource: new URL(resourceMetadata.resource),
    });
    assert.ok(tokens.refresh_token);
    const refreshed = await refreshAuthorization(authorizationServer, {
      metadata,
      clientInformation,
      refreshToken: tokens.refresh_token,
    });
    assert.equal((await whoAmI(refreshed.access_token)).client_id, clientInformation.client_id);
  });
});

/**
 * Real clients' documents (the fixtures in test/fixtures/documents), and how the client
 * authentication method is chosen (CIMD §4.1, §6.2): none, private_key_jwt when the deployment
 * verifies client assertions, or a supported entry of token_endpoint_auth_methods_supported.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { redirectUriMatches, type Registration } from 'oauth-dcr';
import {
  found,
  lookUpFresh,
  refusedWith,
  fixtureDocument,
  minimalDocument,
  skip,
  startDocumentServer,
  type DocumentServer,
} from './harness.js';

describe('real clients and their authentication method', { skip }, () => {
  let server: DocumentServer;
  let dcr: Registration;
  before(async () => {
    server = await startDocumentServer();
    dcr = server.registration();
  });
  after(() => server?.close());
  beforeEach(() => server.reset());

  const lookUp = (make: (clientId: string) => Record<string, unknown>, registration = dcr) =>
    lookUpFresh(server, registration, make);

  describe("real clients' documents", () => {
    it('Claude Code: portless loopback redirects, native, any port at authorization', async () => {
      const client = found(await lookUp((id) => fixtureDocument('claude-code', id)));
      assert.equal(client.metadata.application_type, 'native');
      assert.equal(client.metadata.client_name, 'Claude Code');
      const registered = client.metadata.redirect_uris as string[];
      assert.equal(redirectUriMatches(registered, 'http://127.0.0.1:53124/callback'), true);
      assert.equal(redirectUriMatches(registered, 'http://localhost:53124/callback'), true);
      assert.equal(redirectUriMatches(registered, 'http://127.0.0.1:53124/other'), false);
      assert.equal(redirectUriMatches(registered, 'https://evil.example/callback'), false);
    });

    it('claude.ai: the jwt-bearer grant is dropped, the client is usable', async () => {
      const client = found(await lookUp((id) => fixtureDocument('claude-ai', id)));
      assert.deepEqual(client.metadata.grant_types, ['authorization_code', 'refresh_token']);
      assert.equal(client.metadata.application_type, 'web');
      assert.deepEqual(client.metadata.redirect_uris, ['https://claude.ai/api/mcp/auth_callback']);
    });

    it('VS Code: native with loopback and https redirects, device_code dropped', async () => {
      const client = found(await lookUp((id) => fixtureDocument('vscode', id)));
      assert.equal(client.metadata.application_type, 'native');
      assert.deepEqual(client.metadata.grant_types, ['authorization_code', 'refresh_token']);
      assert.deepEqual(client.metadata.redirect_uris, ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect']);
    });
  });

  describe('the client authentication method', () => {
    const withKeys = server_registration_with_private_key_jwt();

    it('is none when the document names none', async () => {
      const client = found(await lookUp((id) => minimalDocument(id)));
      assert.equal(client.metadata.token_endpoint_auth_method, 'none');
    });

    it('ChatGPT: falls back to none while private_key_jwt is off', async () => {
      const client = found(await lookUp((id) => fixtureDocument('chatgpt', id)));
      assert.equal(client.metadata.token_endpoint_auth_method, 'none');
    });

    it('ChatGPT: private_key_jwt once the deployment verifies client assertions', async () => {
      const client = found(await lookUp((id) => fixtureDocument('chatgpt', id), withKeys()));
      assert.equal(client.metadata.token_endpoint_auth_method, 'private_key_jwt');
      assert.equal(client.metadata.jwks_uri, 'https://chatgpt.com/oauth/jwks.json');
      assert.equal(client.metadata.token_endpoint_auth_signing_alg, 'RS256');
    });

    it('refuses a method it cannot use with no usable alternative', async () => {
      const lookup = await lookUp((id) =>
        minimalDocument(id, {
          token_endpoint_auth_method: 'tls_client_auth',
          token_endpoint_auth_methods_supported: ['tls_client_auth'],
        }),
      );
      refusedWith(lookup, 'invalid_client_metadata', /tls_client_auth.*not supported/);
    });

    it('refuses private_key_jwt without keys', async () => {
      const lookup = await lookUp(
        (id) => minimalDocument(id, { token_endpoint_auth_method: 'private_key_jwt' }),
        withKeys(),
      );
      refusedWith(lookup, 'invalid_client_metadata', /requires jwks or jwks_uri/);
    });

    it('refuses an HMAC signing algorithm', async () => {
      const lookup = await lookUp(
        (id) =>
          minimalDocument(id, {
            token_endpoint_auth_method: 'private_key_jwt',
            jwks_uri: 'https://app.example/jwks',
            token_endpoint_auth_signing_alg: 'HS256',
          }),
        withKeys(),
      );
      refusedWith(lookup, 'invalid_client_metadata', /asymmetric/);
    });

    function server_registration_with_private_key_jwt() {
      let cached: Registration | undefined;
      return () => {
        cached ??= server.registration({
          tokenEndpointAuthMethods: ['none', 'client_secret_basic', 'private_key_jwt'],
        });
        return cached;
      };
    }
  });
});

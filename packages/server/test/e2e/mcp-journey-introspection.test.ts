/**
 * oauth-dcr/mcp's token verifier against the real reference server, both ways an MCP server can
 * check a token: the JWT against the published keys, and RFC 7662 introspection as a client the
 * operator listed in DCR_INTROSPECTION_CLIENTS. Each sits behind the MCP SDK's requireBearerAuth
 * in an Express app, as in examples/mcp-server. Introspection sees a revocation at once; the JWT
 * stays valid until it expires, which is why access tokens are short-lived.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import express from 'express';
import { createTokenVerifier, type TokenVerifierOptions } from 'oauth-dcr/mcp';
import {
  authorizeFor,
  type Client,
  exchangeCode,
  type IntrospectingServer,
  registerPublicClient,
  startWithIntrospector,
} from '../support/resource-flow.js';

const OTHER = 'https://tools.example/mcp';

describe('oauth-dcr/mcp verifiers against the reference server', () => {
  let running: IntrospectingServer;
  let issuer: string;
  let client: Client;
  let resourceServer: Server;
  let resource: string;
  const routes = new Map<string, express.RequestHandler>();

  /** Mounts a verifier at /<name> (which is not part of the resource: one server, several checks). */
  function protect(name: string, options: Partial<TokenVerifierOptions>) {
    routes.set(
      name,
      requireBearerAuth({ verifier: createTokenVerifier({ issuer, resource, ...options }), requiredScopes: [] }),
    );
    return async (token: string) => {
      const response = await fetch(`${new URL(resource).origin}/${name}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
  }

  async function tokenFor(target: string): Promise<Record<string, any>> {
    const { back, verifier } = await authorizeFor(issuer, client, { resources: [target] });
    const token = await exchangeCode(issuer, client, back, verifier);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    return token.body;
  }

  before(async () => {
    running = await startWithIntrospector();
    issuer = running.server.url;
    client = await registerPublicClient(issuer);
    const app = express();
    app.use('/:name', (req, res, next) => {
      const route = routes.get(String(req.params.name));
      if (!route) return next();
      route(req, res, () => res.json((req as { auth?: unknown }).auth));
    });
    resourceServer = createServer(app);
    await new Promise<void>((resolve) => resourceServer.listen(0, '127.0.0.1', resolve));
    resource = `http://127.0.0.1:${(resourceServer.address() as AddressInfo).port}/mcp`;
  });
  after(async () => {
    resourceServer.closeAllConnections();
    await new Promise((resolve) => resourceServer.close(resolve));
    await running.stop();
  });

  const introspection = () => ({
    endpoint: `${issuer}/introspect`,
    clientId: running.introspector.client_id as string,
    clientSecret: running.introspector.client_secret as string,
  });

  it('both accept a token issued for this resource, with the same client and expiry', async () => {
    const byKeys = protect('jwt', {});
    const byIntrospection = protect('introspection', { introspection: introspection() });
    const token = (await tokenFor(resource)).access_token as string;
    const [viaKeys, viaIntrospection] = [await byKeys(token), await byIntrospection(token)];
    assert.equal(viaKeys.status, 200, JSON.stringify(viaKeys.body));
    assert.equal(viaIntrospection.status, 200, JSON.stringify(viaIntrospection.body));
    assert.equal(viaKeys.body.clientId, client.client_id);
    assert.equal(viaIntrospection.body.clientId, client.client_id);
    assert.equal(viaKeys.body.expiresAt, viaIntrospection.body.expiresAt);
    assert.equal(viaIntrospection.body.resource, resource);
  });

  it('both refuse a token issued for another MCP server', async () => {
    const token = (await tokenFor(OTHER)).access_token as string;
    assert.equal((await protect('jwt', {})(token)).status, 401);
    assert.equal((await protect('introspection', { introspection: introspection() })(token)).status, 401);
  });

  it('introspection refuses a revoked token at once; the JWT stays valid until it expires', async () => {
    const byKeys = protect('jwt', {});
    const byIntrospection = protect('introspection', { introspection: introspection() });
    const token = (await tokenFor(resource)).access_token as string;
    assert.equal((await byIntrospection(token)).status, 200);
    const revoked = await fetch(`${issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: client.client_id }),
    });
    assert.equal(revoked.status, 200);
    const refused = await byIntrospection(token);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'invalid_token');
    assert.equal((await byKeys(token)).status, 200, 'a self-contained token cannot learn of its revocation');
  });

  it('answers JSON 500 when its own introspection credentials are wrong, never accepting the token', async () => {
    const token = (await tokenFor(resource)).access_token as string;
    const wrong = protect('wrong-secret', { introspection: { ...introspection(), clientSecret: 'not-the-secret' } });
    const answer = await wrong(token);
    assert.equal(answer.status, 500);
    assert.equal(answer.body.error, 'server_error');
  });
});

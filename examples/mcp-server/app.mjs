// @ts-check
/**
 * An MCP server whose endpoint needs an access token from an OAuth authorization server (the
 * oauth-dcr reference server by default). What makes it an OAuth protected resource is the three
 * pieces from `oauth-dcr/mcp`, marked (1) to (3) below; the rest is the MCP SDK's usual
 * Streamable HTTP server.
 */
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { createTokenVerifier, protectedResourceMetadataHandler, protectedResourceMetadataUrl } from 'oauth-dcr/mcp';

/**
 * @typedef {object} McpAppOptions
 * @property {string} issuer The authorization server's `issuer`, exactly as its metadata spells it.
 * @property {string} resource This server's MCP endpoint URL, exactly as clients use it.
 * @property {string[]} [scopes] The scopes a token needs here. Default `['mcp:tools']`.
 * @property {string} [name] A name that clients show to users.
 */

/**
 * The Express app of the MCP server.
 * @param {McpAppOptions} options
 */
export function createMcpApp({ issuer, resource, scopes = ['mcp:tools'], name = 'oauth-dcr example MCP server' }) {
  const app = express();
  app.disable('x-powered-by');

  // (1) RFC 9728 protected resource metadata, at /.well-known/oauth-protected-resource/mcp for a
  // resource .../mcp. A client that gets a 401 reads it to learn which authorization server to use.
  const metadataUrl = protectedResourceMetadataUrl(resource);
  app.all(
    metadataUrl.pathname,
    protectedResourceMetadataHandler({
      resource,
      authorizationServers: [issuer],
      scopesSupported: scopes,
      resourceName: name,
    }),
  );

  // (2) The token verifier: it checks each token's signature against the keys the issuer
  // publishes (jwks_uri, found in its metadata), and its issuer, expiry and audience. The audience
  // check keeps out tokens the same authorization server issued for other MCP servers.
  const verifier = createTokenVerifier({ issuer, resource });

  // (3) The SDK's bearer middleware with that verifier. Without a valid token it answers 401 with
  // `WWW-Authenticate: Bearer ... resource_metadata="<(1)>"`; without the scopes, 403.
  const bearer = requireBearerAuth({ verifier, requiredScopes: scopes, resourceMetadataUrl: metadataUrl.href });

  const mcpPath = new URL(resource).pathname;
  app.post(mcpPath, bearer, express.json(), async (req, res) => {
    // Stateless Streamable HTTP: a fresh server and transport per request, so that any instance
    // behind a load balancer can answer any request. `req.auth` (set by (3)) reaches the tools.
    const server = buildMcpServer(name);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch {
      if (!res.headersSent) {
        res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
      }
    }
  });
  // A stateless server has no stream to resume (GET) or session to end (DELETE).
  app.all(mcpPath, bearer, (_req, res) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed' }, id: null });
  });
  return app;
}

/**
 * The MCP server and its one tool.
 * @param {string} name
 */
function buildMcpServer(name) {
  const server = new McpServer({ name, version: '0.1.0' });
  server.registerTool(
    'whoami',
    { title: 'Who am I', description: 'Tells who the access token was issued to, and for what' },
    async ({ authInfo }) => {
      const subject = authInfo?.extra?.subject;
      const answer = {
        subject: typeof subject === 'string' ? subject : undefined,
        client_id: authInfo?.clientId,
        scopes: authInfo?.scopes,
        resource: authInfo?.resource?.href,
      };
      return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
    },
  );
  return server;
}

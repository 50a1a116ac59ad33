/**
 * An MCP server of the older kind, which publishes no RFC 9728 protected resource metadata: it
 * checks tokens (oauth-dcr/mcp's verifier in the MCP SDK's bearer middleware) but never tells a
 * client which authorization server to use, nor which resource to ask a token for.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express, { type Express } from 'express';
import { createTokenVerifier } from 'oauth-dcr/mcp';

export interface McpServerWithoutMetadata {
  /** The MCP endpoint, which is also the resource a token for it must name. */
  url: string;
  /** Sets the authorization server whose tokens it accepts (known only once that one is started). */
  trust(issuer: string): void;
  close(): Promise<void>;
}

export interface WithoutMetadataOptions {
  /** The scopes a token needs here. */
  scopes: string[];
  /**
   * MCP 2025-03-26 layout: the MCP server's origin answers for its authorization server, here by
   * relaying the trusted authorization server's own RFC 8414 document, unchanged, at
   * /.well-known/oauth-authorization-server. Off: nothing at all about OAuth is published here.
   */
  relayAuthorizationServerMetadata: boolean;
}

function buildApp(issuer: string, resource: string, options: WithoutMetadataOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  if (options.relayAuthorizationServerMetadata) {
    const path = '/.well-known/oauth-authorization-server';
    app.get(path, async (_req, res) => {
      const upstream = await fetch(new URL(path, issuer));
      res
        .status(upstream.status)
        .type('application/json')
        .send(await upstream.text());
    });
  }
  // No resourceMetadataUrl: the 401 challenge names no metadata, and none is served.
  const verifier = createTokenVerifier({ issuer, resource });
  const bearer = requireBearerAuth({ verifier, requiredScopes: options.scopes });
  const mcpPath = new URL(resource).pathname;
  app.post(mcpPath, bearer, express.json(), async (req, res) => {
    const server = new McpServer({ name: 'MCP server without metadata', version: '0.1.0' });
    server.registerTool(
      'whoami',
      { description: 'Tells who the access token was issued to' },
      async ({ authInfo }) => ({
        content: [
          {
            type: 'text',
            text: JSON.stringify({
              subject: authInfo?.extra?.subject,
              client_id: authInfo?.clientId,
              scopes: authInfo?.scopes,
              resource: authInfo?.resource?.href,
            }),
          },
        ],
      }),
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return app;
}

export async function startMcpServerWithoutMetadata(
  options: WithoutMetadataOptions,
): Promise<McpServerWithoutMetadata> {
  let app: Express | undefined;
  let issuer: string | undefined;
  let url = '';
  const server: Server = createServer((req, res) => {
    if (!issuer) {
      res.writeHead(503).end();
      return;
    }
    app ??= buildApp(issuer, url, options);
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  return {
    url,
    trust(value) {
      issuer = value;
      app = undefined;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

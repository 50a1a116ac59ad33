// An MCP server as our users build it (Express, the MCP SDK's Streamable HTTP transport and
// requireBearerAuth, oauth-dcr/mcp's token verifier), with each endpoint served twice: behind the
// bearer check and without it, so one process measures what verification costs per request.
//
//   ISSUER=http://127.0.0.1:3000 RESOURCE=http://127.0.0.1:PORT/mcp PORT=... node bench/mcp-resource-server.mjs
//   (BENCH_VERIFY=introspection with BENCH_INTROSPECTION_CLIENT_ID / _SECRET: RFC 7662 instead of JWTs)
//
//   POST /mcp, POST /open/mcp     a JSON-RPC tools/call to a stateless MCP server (JSON responses)
//   GET  /whoami, GET /open/whoami  a minimal JSON answer: the verifier's cost against almost nothing
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { createTokenVerifier, protectedResourceMetadataUrl } from 'oauth-dcr/mcp';

const port = Number(process.env.PORT ?? 0);
const issuer = process.env.ISSUER;
const resource = process.env.RESOURCE;
if (!issuer || !resource) throw new Error('ISSUER and RESOURCE are required');

const verifier = createTokenVerifier({
  issuer,
  resource,
  ...(process.env.BENCH_VERIFY === 'introspection'
    ? {
        introspection: {
          endpoint: `${issuer}/introspect`,
          clientId: process.env.BENCH_INTROSPECTION_CLIENT_ID,
          clientSecret: process.env.BENCH_INTROSPECTION_CLIENT_SECRET,
        },
      }
    : {}),
});
const bearer = requireBearerAuth({ verifier, resourceMetadataUrl: String(protectedResourceMetadataUrl(resource)) });

/** A stateless MCP server per request, as the SDK shows for Streamable HTTP without sessions. */
async function mcp(req, res) {
  const server = new McpServer({ name: 'bench-mcp-server', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes its input' }, async () => ({
    content: [{ type: 'text', text: `hello ${req.auth?.clientId ?? 'anonymous'}` }],
  }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}

const whoami = (req, res) => res.json({ client_id: req.auth?.clientId ?? null });

const app = express();
app.use(express.json());
app.post('/mcp', bearer, mcp);
app.post('/open/mcp', mcp);
app.get('/whoami', bearer, whoami);
app.get('/open/whoami', whoami);

const listener = app.listen(port, '127.0.0.1', () => {
  console.log(`MCP resource server for ${resource} on http://127.0.0.1:${listener.address().port}`);
});
process.on('SIGTERM', () => listener.close(() => process.exit(0)));

// The MCP server under test for token verification: the example MCP server
// (examples/mcp-server/app.mjs: Express, the MCP SDK's stateless Streamable HTTP transport,
// requireBearerAuth with oauth-dcr/mcp's JWT verifier) as its users run it, plus, in the same
// process, the same MCP endpoint without the bearer check, so one run weighs what verification
// costs per request.
//
//   ISSUER=http://127.0.0.1:3000 RESOURCE=http://127.0.0.1:PORT/mcp PORT=... node bench/mcp-resource-server.mjs
//
//   POST /mcp           the example's protected endpoint (a JSON-RPC tools/call of its whoami tool)
//   POST /open/mcp      the same handler without auth
//   GET  /whoami, GET /open/whoami   a minimal JSON answer behind the same verifier, and without:
//                       the verifier's cost against almost nothing
// BENCH_VERIFY=introspection (with BENCH_INTROSPECTION_CLIENT_ID / _SECRET): /mcp and /whoami
// verify through RFC 7662 introspection instead (createTokenVerifier's introspection option).
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { createTokenVerifier, protectedResourceMetadataUrl } from 'oauth-dcr/mcp';
import { createMcpApp } from '../examples/mcp-server/app.mjs';

const port = Number(process.env.PORT ?? 0);
const issuer = process.env.ISSUER;
const resource = process.env.RESOURCE;
if (!issuer || !resource) throw new Error('ISSUER and RESOURCE are required');
const introspection = process.env.BENCH_VERIFY === 'introspection';

const verifier = createTokenVerifier({
  issuer,
  resource,
  ...(introspection
    ? {
        introspection: {
          endpoint: `${issuer}/introspect`,
          clientId: process.env.BENCH_INTROSPECTION_CLIENT_ID,
          clientSecret: process.env.BENCH_INTROSPECTION_CLIENT_SECRET,
        },
      }
    : {}),
});
const bearer = requireBearerAuth({ verifier, resourceMetadataUrl: protectedResourceMetadataUrl(resource).href });

/** The example's MCP handler, step for step (stateless: a fresh server and transport per request). */
async function mcp(req, res) {
  const server = new McpServer({ name: 'oauth-dcr example MCP server', version: '0.1.0' });
  server.registerTool(
    'whoami',
    { title: 'Who am I', description: 'Tells who the access token was issued to, and for what' },
    async ({ authInfo }) => ({
      content: [{ type: 'text', text: JSON.stringify({ client_id: authInfo?.clientId, scopes: authInfo?.scopes }) }],
    }),
  );
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}

const whoami = (req, res) => res.json({ client_id: req.auth?.clientId ?? null });

const app = express();
app.disable('x-powered-by');
app.post('/open/mcp', express.json(), mcp);
app.get('/open/whoami', whoami);
app.get('/whoami', bearer, whoami);
if (introspection) app.post('/mcp', bearer, express.json(), mcp);
// No required scopes: the benchmark's tokens are granted none.
else app.use(createMcpApp({ issuer, resource, scopes: [] }));

const listener = app.listen(port, '127.0.0.1', () => {
  console.log(`MCP resource server for ${resource} on http://127.0.0.1:${listener.address().port}`);
});
process.on('SIGTERM', () => listener.close(() => process.exit(0)));

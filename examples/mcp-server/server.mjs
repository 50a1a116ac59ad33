// @ts-check
/**
 * Starts the example MCP server. Settings come from the environment:
 *   MCP_PORT      the port to listen on (default 3001)
 *   ISSUER        the authorization server's issuer (default http://localhost:3000, `npm start`'s)
 *   MCP_RESOURCE  this server's MCP endpoint as clients reach it (default http://localhost:MCP_PORT/mcp)
 *   MCP_SCOPES    space-separated scopes a token needs (default mcp:tools)
 */
import { createMcpApp } from './app.mjs';

const port = Number(process.env.MCP_PORT ?? 3001);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`MCP_PORT must be a port number, not ${process.env.MCP_PORT}`);
  process.exit(1);
}
const issuer = process.env.ISSUER ?? 'http://localhost:3000';
const resource = process.env.MCP_RESOURCE ?? `http://localhost:${port}/mcp`;
const scopes = (process.env.MCP_SCOPES ?? 'mcp:tools').split(' ').filter(Boolean);

let app;
try {
  app = createMcpApp({ issuer, resource, scopes });
} catch (error) {
  // A bad ISSUER or MCP_RESOURCE: one line, no stack.
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
const server = app.listen(port, () => {
  console.log(`MCP server: ${resource}`);
  console.log(`  tokens from: ${issuer}`);
  console.log(`  scopes needed: ${scopes.join(' ')}`);
});
server.on('error', (error) => {
  console.error(`cannot listen on port ${port}: ${error.message}`);
  process.exit(1);
});
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

// Diagnostic server: the library alone, mounted the way its README shows for node:http
// (createRegistration + nodeRegistration), with no Express, no logging and no audit trail. It is
// not a target of its own; it splits the reference server's cost into "library" and "the rest".
//
//   BENCH_LIBRARY_STORE=memory|sqlite BENCH_LIBRARY_HTTP=node|express DATABASE_PATH=... node bench/library-server.mjs
//
// With BENCH_LIBRARY_HTTP=express the endpoint is mounted as the README shows for Express
// (`app.use('/register', expressRegistration(dcr))`) and nothing else, which isolates what
// Express itself costs.
import { createServer } from 'node:http';
import { createRegistration } from '../packages/oauth-dcr/dist/index.js';
import { nodeRegistration } from '../packages/oauth-dcr/dist/adapters/node.js';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

let store;
if (process.env.BENCH_LIBRARY_STORE === 'sqlite') {
  const { sqliteStore } = await import('../packages/oauth-dcr/dist/store/sqlite.js');
  store = sqliteStore({ path: process.env.DATABASE_PATH ?? 'bench-library.db', migrate: true });
  await store.ready;
} else {
  const { memoryStore } = await import('../packages/oauth-dcr/dist/store/memory.js');
  store = memoryStore();
}

const server = createServer();
server.listen(port, host, async () => {
  const issuer = `http://${host}:${server.address().port}`;
  const registration = createRegistration({ store, issuer, registrationPath: '/register' });
  const metadata = JSON.stringify({ issuer, registration_endpoint: `${issuer}/register` });
  if (process.env.BENCH_LIBRARY_HTTP === 'express') {
    const { default: express } = await import('express');
    const { expressRegistration } = await import('../packages/oauth-dcr/dist/adapters/express.js');
    const app = express();
    app.use('/register', expressRegistration(registration));
    app.get('/.well-known/oauth-authorization-server', (_req, res) => res.type('json').send(metadata));
    server.on('request', app);
    console.log(`library server (express) listening on ${issuer}`);
    return;
  }
  const handle = nodeRegistration(registration);
  server.on('request', (req, res) => {
    if (req.url === '/.well-known/oauth-authorization-server') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(metadata);
    }
    if (req.url?.startsWith('/register')) return handle(req, res);
    req.resume();
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"error":"not_found"}');
  });
  console.log(`library server listening on ${issuer}`);
});
process.on('SIGTERM', () =>
  server.close(async () => {
    await store.close?.();
    process.exit(0);
  }),
);

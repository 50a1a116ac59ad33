// Diagnostic: where a request's CPU goes, measured in-process without sockets, so the figures
// are far less noisy than the HTTP runs. Not part of `npm run bench`; run it after a build:
//
//   node bench/handler-costs.mjs
//
// Each line is microseconds per operation (best of several rounds: the least disturbed by
// neighbours on a shared machine).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createRegistration } from '../packages/oauth-dcr/dist/index.js';
import { memoryStore } from '../packages/oauth-dcr/dist/store/memory.js';
import { sqliteStore } from '../packages/oauth-dcr/dist/store/sqlite.js';
import { frozenCopy } from '../packages/oauth-dcr/dist/store/frozen.js';
import { validateClientMetadata } from '../packages/oauth-dcr/dist/metadata/validate.js';
import { readJsonObject } from '../packages/oauth-dcr/dist/core/request.js';
import { clientInformation } from '../packages/oauth-dcr/dist/protocol/client-response.js';
import { createPolicy } from '../packages/oauth-dcr/dist/protocol/policy.js';
import { selectClient } from '../packages/oauth-dcr/dist/store/sql/queries.js';
import { rowToClient } from '../packages/oauth-dcr/dist/store/sql/rows.js';
import { mcpClientMetadata } from './scenarios.mjs';

const ROUNDS = 5;
const body = JSON.stringify(mcpClientMetadata('none'));
const bodyBuffer = Buffer.from(body);
const issuer = 'http://127.0.0.1:3000';

function rawRequest(method, path, { json, bearer } = {}) {
  const headers = {
    host: '127.0.0.1:3000',
    'content-type': 'application/json',
    'content-length': String(bodyBuffer.length),
  };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  return {
    method,
    url: issuer + path,
    header: (name) => headers[name.toLowerCase()],
    body: json ? [bodyBuffer] : null,
    remoteAddress: '127.0.0.1',
  };
}

async function measure(label, n, fn) {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / n);
  }
  console.log(`${best.toFixed(2).padStart(9)} us  ${label}`);
  return best;
}

async function measureConcurrent(label, n, concurrency, fn) {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) await fn(next++);
      }),
    );
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / n);
  }
  console.log(`${best.toFixed(2).padStart(9)} us  ${label}`);
  return best;
}

console.log(`node ${process.version}; best of ${ROUNDS} rounds\n`);

console.log('Baseline work (bench/baseline.mjs POST /register without HTTP)');
const baselineMap = new Map();
await measure('JSON.parse + randomUUID + randomBytes(32) + sha256 + Map.set + JSON.stringify', 20_000, () => {
  const metadata = JSON.parse(body);
  const id = randomUUID();
  const token = randomBytes(32).toString('base64url');
  baselineMap.set(id, { metadata, hash: createHash('sha256').update(token).digest() });
  return JSON.stringify({ client_id: id, ...metadata, registration_access_token: token });
});

console.log('\nLibrary, memory store, createRegistration().handleRaw (no HTTP)');
const quiet = createRegistration({ store: memoryStore(), issuer });
await measure('POST /register (public client)', 20_000, () =>
  quiet.handleRaw(rawRequest('POST', '/register', { json: true })),
);
const audited = createRegistration({ store: memoryStore(), issuer, persistAuditEvents: true });
await measure('POST /register, persistAuditEvents: true', 20_000, () =>
  audited.handleRaw(rawRequest('POST', '/register', { json: true })),
);
const devNull = pino(
  { level: 'info', base: { service: 'oauth-dcr' } },
  pino.destination({ dest: '/dev/null', sync: true }),
);
const logged = createRegistration({
  store: memoryStore(),
  issuer,
  onEvent: (event) =>
    devNull.info(
      { event: event.type, clientId: event.clientId, actor: event.actor, detail: event.detail },
      'registration event',
    ),
});
await measure(
  'POST /register, onEvent -> pino.info (as packages/server/src/server.ts onRegistrationEvent)',
  20_000,
  () => logged.handleRaw(rawRequest('POST', '/register', { json: true })),
);

const one = JSON.parse((await quiet.handleRaw(rawRequest('POST', '/register', { json: true }))).body);
const readPath = new URL(one.registration_client_uri).pathname;
await measure('GET /register/{id} (RFC 7592 read)', 50_000, () =>
  quiet.handleRaw(rawRequest('GET', readPath, { bearer: one.registration_access_token })),
);

console.log('\nSteps of a registration');
// The endpoint's resolved policy is internal: build the same one from the same options.
const policy = createPolicy({ store: quiet.store, issuer });
await measure('readJsonObject (content-type, size cap, UTF-8 decode, JSON.parse, key and depth checks)', 50_000, () =>
  readJsonObject(rawRequest('POST', '/register', { json: true }), 65536),
);
const parsed = JSON.parse(body);
await measure('validateClientMetadata', 50_000, () => validateClientMetadata(parsed, policy, policy.tiers.anonymous));
await measure('JSON.parse alone (for comparison)', 50_000, () => JSON.parse(body));
const stored = await policy.store.findClient(one.client_id);
await measure('clientInformation + JSON.stringify', 50_000, () =>
  JSON.stringify(clientInformation(policy, stored, issuer + readPath)),
);
await measure(
  'JSON round trip of a record (what MemoryClientStore paid on every findClient before records were frozen)',
  50_000,
  () => JSON.parse(JSON.stringify(stored)),
);
await measure('frozenCopy of a record (MemoryClientStore.insertClient)', 50_000, () => frozenCopy(stored));
await measure('structuredClone of a record (for comparison)', 50_000, () => structuredClone(stored));
await measure(
  'new URL(request url) (what routes.ts paid per request before adapters passed the path)',
  50_000,
  () => new URL(issuer + readPath).pathname,
);
await measure('pino.info request line to /dev/null (sync)', 50_000, () =>
  devNull.info({ method: 'POST', path: '/register', status: 201, ms: 1.2 }, 'request'),
);
{
  // The server logs to stdout; redirected to a file (as `npm run bench` and most deployments do).
  const logDir = mkdtempSync(join(tmpdir(), 'oauth-dcr-log-'));
  const syncFile = pino(
    { level: 'info', base: { service: 'oauth-dcr' } },
    pino.destination({ dest: join(logDir, 'sync.log'), sync: true }),
  );
  await measure('pino.info request line to a file, sync (one write(2) per line)', 50_000, () =>
    syncFile.info({ method: 'POST', path: '/register', status: 201, ms: 1.2 }, 'request'),
  );
  const asyncFile = pino(
    { level: 'info', base: { service: 'oauth-dcr' } },
    pino.destination({ dest: join(logDir, 'async.log'), sync: false }),
  );
  await measure('pino.info request line to a file, async (as packages/server/src/logger.ts)', 50_000, () =>
    asyncFile.info({ method: 'POST', path: '/register', status: 201, ms: 1.2 }, 'request'),
  );
  asyncFile.flush?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  rmSync(logDir, { recursive: true, force: true });
}

console.log('\nSQLite store (WAL, synchronous=FULL), on a temp file');
const dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-costs-'));
try {
  const sqlite = sqliteStore({ path: join(dir, 'costs.db') });
  await sqlite.ready;
  const sqliteRegistration = createRegistration({ store: sqlite, issuer });
  await measure('POST /register, 1 at a time (one commit + fsync each)', 300, () =>
    sqliteRegistration.handleRaw(rawRequest('POST', '/register', { json: true })),
  );
  await measureConcurrent('POST /register, 16 concurrent (group commit)', 3000, 16, () =>
    sqliteRegistration.handleRaw(rawRequest('POST', '/register', { json: true })),
  );
  await measureConcurrent('POST /register, 64 concurrent (group commit)', 6000, 64, () =>
    sqliteRegistration.handleRaw(rawRequest('POST', '/register', { json: true })),
  );
  const sqliteOne = JSON.parse(
    (await sqliteRegistration.handleRaw(rawRequest('POST', '/register', { json: true }))).body,
  );
  const sqlitePath = new URL(sqliteOne.registration_client_uri).pathname;
  await measure('GET /register/{id} (read, no audit)', 20_000, () =>
    sqliteRegistration.handleRaw(rawRequest('GET', sqlitePath, { bearer: sqliteOne.registration_access_token })),
  );
  await measure('store.findClient alone (client record cache: PRAGMA data_version + total_changes())', 20_000, () =>
    sqlite.findClient(sqliteOne.client_id),
  );
  const uncached = sqliteStore({ path: join(dir, 'costs.db'), clientCacheSize: 0 });
  await uncached.ready;
  await measure('store.findClient alone, clientCacheSize: 0 (a select each time)', 20_000, () =>
    uncached.findClient(sqliteOne.client_id),
  );
  await uncached.close();
  await measure('  of which: build + compile the Kysely query (now compiled once: queries.compiledOnce)', 20_000, () =>
    selectClient(sqlite.db, sqliteOne.client_id),
  );
  const prepared = sqlite.sqlite.prepare('select * from dcr_clients where client_id = ?');
  const row = prepared.get(sqliteOne.client_id);
  await measure('  of which: prepared statement .all() on better-sqlite3', 20_000, () =>
    prepared.all(sqliteOne.client_id),
  );
  await measure('  of which: rowToClient (JSON.parse of metadata)', 20_000, () => rowToClient(row));
  const rawDb = sqlite.sqlite;
  rawDb.exec('create table if not exists fsync_probe (id integer primary key, v text)');
  const insert = rawDb.prepare('insert into fsync_probe (v) values (?)');
  await measure('bare better-sqlite3 insert, autocommit (what one un-grouped durable write costs)', 300, () =>
    insert.run('x'),
  );
  await sqlite.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

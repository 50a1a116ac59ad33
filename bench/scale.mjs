// npm run bench:scale: a million clients in SQLite and in PostgreSQL, measured against the same
// store holding a thousand, in the same run (rounds interleave the two sizes). Per store:
// - registration: POST /register on the reference server (as users start it; DCR_TRUST_PROXY so
//   that every request has its own client address, default limits on);
// - RFC 7592 read: GET of the client configuration endpoint with the registration access token,
//   for clients drawn across the whole table;
// - getClient: the store's findClient, the lookup the token endpoint makes, for random ids across
//   the whole table (the SQLite client cache holds 10 000: at a million, nearly every lookup misses);
// - memory: heap and RSS of that lookup process after 100 000, 200 000 and 400 000 random lookups;
// - bytes per client on disk, `oauth-dcr prune --audit` and `prune --idle --dry-run` at that size,
//   and re-running migration 0004 (its indexes) on the full table, with PostgreSQL writes timed
//   meanwhile (CREATE INDEX holds them off).
// Figures are printed, never asserted; the 0.9x targets are marked met or MISSED.
//
// Knobs (environment): BENCH_SCALE_CLIENTS (1000000), BENCH_SCALE_SMALL (1000), BENCH_SCALE_STORES
// (sqlite,postgres), BENCH_SECONDS (3), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16), DATABASE_URL
// (postgres://postgres@127.0.0.1:5432/test; its database is used, in schemas of its own dropped
// afterwards), BENCH_SCALE_PARTS (rates,memory,disk,prune,migrate).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findWrk } from './load.mjs';
import { wrkRun } from './limits-load.mjs';
import { clientIdOf, loadPostgres, loadSqlite } from './scale-load.mjs';
import { lookupRate, memoryAfterLookups, readRequest, registrationRequest } from './scale-measures.mjs';
import { diskBytes, timeMigration, timePrune } from './scale-maintenance.mjs';
import { startServer, stopServer } from './servers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const list = (value, fallback) =>
  (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const large = Number(process.env.BENCH_SCALE_CLIENTS ?? 1_000_000);
const small = Number(process.env.BENCH_SCALE_SMALL ?? 1000);
const stores = list(process.env.BENCH_SCALE_STORES, 'sqlite,postgres');
const parts = new Set(list(process.env.BENCH_SCALE_PARTS, 'rates,memory,disk,prune,migrate'));
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const wrk = findWrk();
if (!wrk) {
  console.error('bench:scale needs wrk');
  process.exit(1);
}

const workDir = mkdtempSync(join(tmpdir(), 'oauth-dcr-scale-'));
const logDir = join(workDir, 'logs');
mkdirSync(logDir);
const running = new Set();
const cleanups = [];
const dist = (path) => join(root, 'packages', 'oauth-dcr', 'dist', path);
const cli = join(root, 'packages', 'server', 'dist', 'cli.js');

/** Opens the library's store on a database, for migrating, loading and looking up. */
async function openStore(kind, target, sqliteOptions = {}) {
  if (kind === 'sqlite') {
    const { sqliteStore } = await import(dist('store/sqlite.js'));
    const store = sqliteStore({ path: target.path, ...sqliteOptions });
    await store.ready;
    return store;
  }
  const { postgresStore } = await import(dist('store/postgres.js'));
  const store = postgresStore({ connectionString: databaseUrl, schema: target.schema, max: 16 });
  await store.ready;
  return store;
}

async function prepare(kind, size, now) {
  const label = size === large ? 'large' : 'small';
  const target =
    kind === 'sqlite'
      ? { kind, size, path: join(workDir, `${label}.db`) }
      : { kind, size, schema: `bench_scale_${label}_${process.pid}` };
  const started = performance.now();
  const store = await openStore(kind, target);
  await store.close();
  if (kind === 'sqlite') {
    loadSqlite(require('better-sqlite3'), target.path, 0, size, now);
  } else {
    const pg = require('pg');
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    cleanups.push(async () => {
      await pool.query(`drop schema if exists "${target.schema}" cascade`);
      await pool.end();
    });
    target.pool = pool;
    await loadPostgres(pool, target.schema, 0, size, now);
  }
  target.loadSeconds = (performance.now() - started) / 1000;
  console.log(`${kind}: ${size.toLocaleString('en-US')} clients loaded in ${target.loadSeconds.toFixed(1)} s`);
  return target;
}

function serverEnv(target) {
  const storage =
    target.kind === 'sqlite'
      ? { DCR_STORE: 'sqlite', DATABASE_PATH: target.path }
      : { DCR_STORE: 'postgres', DATABASE_URL: databaseUrl, DATABASE_SCHEMA: target.schema };
  return { ...storage, DCR_TRUST_PROXY: '127.0.0.1' };
}

let nextOffset = 1;
function offsets(count) {
  const offset = nextOffset;
  nextOffset += count;
  return offset;
}

/** Rates at both sizes, interleaved round by round (each round starts with the other size). */
async function rates(kind, targets) {
  const servers = [];
  for (const target of targets) {
    const server = await startServer({
      name: `${kind}-${target.size}`,
      args: [cli, 'serve'],
      env: serverEnv(target),
      cwd: root,
      logDir,
    });
    running.add(server);
    servers.push([target, server]);
  }
  const workloads = [
    [
      'registration',
      (server) =>
        wrkRun(wrk, `${server.origin}/register`, registrationRequest(), {
          from: 'many',
          offset: offsets(1e6),
          connections,
          seconds,
        }),
    ],
    ['RFC 7592 read', (server, target) => readRequest(wrk, server.origin, target.size, { connections, seconds })],
  ];
  const results = [];
  for (const [name, run] of workloads) {
    for (const [target, server] of servers) await run(server, target); // warm-up
    const samples = new Map(targets.map((t) => [t.size, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [...servers].reverse() : servers;
      for (const [target, server] of order) samples.get(target.size).push(await run(server, target));
    }
    results.push(summarise(kind, name, samples));
  }
  for (const [, server] of servers) {
    await stopServer(server);
    running.delete(server);
  }
  // findClient in this process, on both sizes at once, interleaved. On SQLite also without the
  // client cache: at 1,000 clients every lookup is a cache hit, so "as deployed" compares the
  // cache with the database; cache off compares the database at both sizes.
  const variants =
    kind === 'sqlite'
      ? [
          ['getClient (findClient), cache as deployed', {}],
          ['getClient (findClient), cache off', { clientCacheSize: 0 }],
        ]
      : [['getClient (findClient)', {}]];
  for (const [name, options] of variants) {
    const opened = await Promise.all(targets.map(async (t) => [t, await openStore(kind, t, options)]));
    const lookups = new Map(targets.map((t) => [t.size, []]));
    for (const [target, store] of opened)
      await lookupRate(store, target.size, { seconds: 1, concurrency: connections });
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [...opened].reverse() : opened;
      for (const [target, store] of order)
        lookups.get(target.size).push(await lookupRate(store, target.size, { seconds, concurrency: connections }));
    }
    for (const [, store] of opened) await store.close();
    results.push(summarise(kind, name, lookups));
  }
  return results;
}

function summarise(kind, name, samples) {
  const at = (size) => samples.get(size);
  const ratios = at(large).map((sample, i) => sample.rps / at(small)[i].rps);
  return {
    kind,
    name,
    smallRps: median(at(small).map((s) => s.rps)),
    largeRps: median(at(large).map((s) => s.rps)),
    smallP99: median(at(small).map((s) => s.p99Ms ?? Number.NaN)),
    largeP99: median(at(large).map((s) => s.p99Ms ?? Number.NaN)),
    ratio: median(ratios),
    failed: [...at(small), ...at(large)].reduce((sum, s) => sum + (s.non2xx ?? 0) + (s.errors ?? 0), 0),
  };
}

function printRates(rows) {
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  console.log(
    `\n| store | operation | ${small.toLocaleString('en-US')} clients /s | ${large.toLocaleString('en-US')} clients /s | p99 ms (small -> large) | ratio | target 0.9x | failed |`,
  );
  console.log('|---|---|---:|---:|---:|---:|---|---:|');
  for (const r of rows)
    console.log(
      `| ${r.kind} | ${r.name} | ${fmt(r.smallRps)} | ${fmt(r.largeRps)} | ${Number.isNaN(r.smallP99) ? '-' : `${r.smallP99.toFixed(1)} -> ${r.largeP99.toFixed(1)}`} | ${r.ratio.toFixed(2)}x | ${r.ratio >= 0.9 ? 'met' : 'MISSED'} | ${r.failed} |`,
    );
}

async function main() {
  console.log(
    `bench:scale  ${large.toLocaleString('en-US')} vs ${small.toLocaleString('en-US')} clients  stores=${stores.join(',')}  rounds=${rounds} x ${seconds}s  c${connections}  load=${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const now = Math.floor(Date.now() / 1000);
  const rows = [];
  const facts = [];
  for (const kind of stores) {
    const targets = [await prepare(kind, small, now), await prepare(kind, large, now)];
    const big = targets[1];
    facts.push(
      `${kind}: loading ${large.toLocaleString('en-US')} clients (and their audit events) took ${big.loadSeconds.toFixed(1)} s`,
    );
    if (parts.has('rates')) rows.push(...(await rates(kind, targets)));
    if (parts.has('memory')) {
      const store = await openStore(kind, big);
      for (const line of await memoryAfterLookups(store, large, [100_000, 200_000, 400_000]))
        facts.push(
          `${kind}: after ${line.lookups.toLocaleString('en-US')} random lookups among ${large.toLocaleString('en-US')}: heap ${line.heapMiB.toFixed(1)} MiB, RSS ${line.rssMiB.toFixed(1)} MiB`,
        );
      await store.close();
    }
    if (parts.has('disk')) facts.push(...(await diskBytes(big, large)));
    if (parts.has('prune')) facts.push(...(await timePrune(big, { root, databaseUrl })));
    if (parts.has('migrate'))
      facts.push(...(await timeMigration(big, { openStore: (t) => openStore(kind, t), databaseUrl, clientIdOf })));
  }
  if (rows.length > 0) printRates(rows);
  console.log('');
  for (const fact of facts) console.log(`- ${fact}`);
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

async function cleanup() {
  await Promise.allSettled([...running].map((server) => stopServer(server)));
  for (const step of cleanups) await step().catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await cleanup();
    process.exit(130);
  });
}

try {
  await main();
} finally {
  await cleanup();
}

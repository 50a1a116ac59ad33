// npm run bench:limits — abuse controls under load (issue 11, "Performance"). Prints figures and
// ratios measured in the same run; never fails on a figure. Three parts:
//
// 1. cost   registration throughput with the default limits on (counters in memory, and in Redis)
//           against the same server with DCR_RATE_LIMITS=off, interleaved round by round. Every
//           request comes from a new address (X-Forwarded-For from the trusted bench, 10.0.0.0/8),
//           so no request is refused and every one pays for its counters.
// 2. flood  p99 of registrations from other addresses at a fixed rate, alone and while one address
//           floods the endpoint (answered 429). Every one of theirs must be a 201.
// 3. reaper p99 of registrations at a fixed rate against a SQLite store holding BENCH_REAP_CLIENTS
//           (1,000,000) idle clients, with the reaper off, and while the server's reaper deletes
//           them all.
//
// Knobs: BENCH_PARTS (cost,flood,reaper), BENCH_SECONDS (3), BENCH_ROUNDS (3), BENCH_CONNECTIONS
// (16,64), BENCH_STORES (memory,sqlite), BENCH_RATE (fixed-rate registrations a second, 100),
// BENCH_REAP_CLIENTS (1000000), REDIS_URL (redis://127.0.0.1:6379; the Redis variant is skipped,
// and says so, when it cannot be reached). Results: bench/results/limits-latest.json.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { findWrk } from './load.mjs';
import { fixedRate, wrkRun } from './limits-load.mjs';
import { mcpClientMetadata } from './scenarios.mjs';
import { startServer, stopServer } from './servers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'packages', 'server', 'package.json'));
const list = (value, fallback) =>
  (value || fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const median = (values) => {
  const sorted = values.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const parts = list(process.env.BENCH_PARTS, 'cost,flood,reaper');
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const connectionCounts = list(process.env.BENCH_CONNECTIONS, '16,64').map(Number);
const stores = list(process.env.BENCH_STORES, 'memory,sqlite');
const rate = Number(process.env.BENCH_RATE ?? 100);
const reapClients = Number(process.env.BENCH_REAP_CLIENTS ?? 1_000_000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const wrk = findWrk();
if (!wrk) throw new Error('bench:limits needs wrk (apt-get install wrk)');

const workDir = mkdtempSync(join(tmpdir(), 'oauth-dcr-limits-bench-'));
const logDir = join(workDir, 'logs');
mkdirSync(logDir);
const running = new Set();
const cli = join(root, 'packages', 'server', 'dist', 'cli.js');
// As VS Code and Claude register: no software_id. Every install of one software_id shares one
// bucket (perSoftware, 300 a minute), which thousands of registrations a second would empty.
const { software_id: _id, software_version: _version, ...anonymousMetadata } = mcpClientMetadata('none');
const REGISTRATION = {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
  body: JSON.stringify(anonymousMetadata),
};
// Every run draws its addresses from a fresh stretch of 10.0.0.0/8, so no address is seen twice.
let nextOffset = 1;
const offsets = (count) => {
  const offset = nextOffset;
  nextOffset += count;
  return offset;
};

async function start(name, env) {
  const server = await startServer({
    name,
    args: [cli, 'serve'],
    env: { DCR_TRUST_PROXY: '127.0.0.1', ...env },
    cwd: root,
    logDir,
  });
  running.add(server);
  return server;
}

async function stop(server) {
  await stopServer(server);
  running.delete(server);
}

function storeEnv(store, name) {
  return store === 'memory'
    ? { DCR_STORE: 'memory' }
    : { DCR_STORE: 'sqlite', DATABASE_PATH: join(workDir, `${name}.db`) };
}

async function redisReachable() {
  const url = new URL(redisUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port || 6379), url.hostname);
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Part 1: throughput ratios, limits on (memory, Redis) against off, interleaved. */
async function costPart(results) {
  const withRedis = await redisReachable();
  if (!withRedis) console.log(`cost: Redis at ${redisUrl} cannot be reached; the Redis variant is skipped`);
  for (const store of stores) {
    const variants = [
      ['off', { DCR_RATE_LIMITS: 'off' }],
      ['memory', {}],
      ...(withRedis ? [['redis', { REDIS_URL: redisUrl }]] : []),
    ];
    const servers = [];
    for (const [variant, env] of variants)
      servers.push([
        variant,
        await start(`cost-${store}-${variant}`, { ...storeEnv(store, `cost-${variant}`), ...env }),
      ]);
    for (const connections of connectionCounts) {
      const samples = Object.fromEntries(variants.map(([v]) => [v, []]));
      for (const [, server] of servers)
        await wrkRun(wrk, `${server.origin}/register`, REGISTRATION, {
          from: 'many',
          offset: offsets(1e6),
          connections,
          seconds: 1,
        });
      for (let round = 0; round < rounds; round += 1) {
        for (const [variant, server] of servers) {
          const run = await wrkRun(wrk, `${server.origin}/register`, REGISTRATION, {
            from: 'many',
            offset: offsets(2e6),
            connections,
            seconds,
          });
          if (run.non2xx > 0 || run.errors > 0)
            console.log(`  ${store}/${variant} c${connections}: ${run.non2xx} non-2xx, ${run.errors} errors`);
          samples[variant].push(run.rps);
        }
      }
      const off = median(samples.off);
      const row = { part: 'cost', store, connections, offRps: off };
      for (const [variant] of variants.slice(1)) {
        row[`${variant}Rps`] = median(samples[variant]);
        row[`${variant}Ratio`] = row[`${variant}Rps`] / off;
      }
      results.push(row);
      console.log(
        `cost ${store} c${connections}: off ${off.toFixed(0)}/s` +
          variants
            .slice(1)
            .map(([v]) => `, ${v} ${row[`${v}Rps`].toFixed(0)}/s (${row[`${v}Ratio`].toFixed(2)}x)`)
            .join(''),
      );
    }
    for (const [, server] of servers) await stop(server);
  }
}

/** Part 2: other addresses' p99 with and without a flood from one address. */
async function floodPart(results) {
  for (const store of stores) {
    const server = await start(`flood-${store}`, storeEnv(store, 'flood'));
    const url = `${server.origin}/register`;
    await fixedRate(url, REGISTRATION, { rate, seconds: 2, offset: offsets(1e5) });
    const alone = [];
    const flooded = [];
    let refused = 0;
    let floodRps = 0;
    let failures = 0;
    for (let round = 0; round < rounds; round += 1) {
      const quiet = await fixedRate(url, REGISTRATION, { rate, seconds: seconds + 2, offset: offsets(1e5) });
      alone.push(quiet.p99Ms);
      failures += quiet.sent - (quiet.statuses[201] ?? 0);
      const flood = wrkRun(wrk, url, REGISTRATION, { from: '203.0.113.7', connections: 64, seconds: seconds + 4 });
      await sleep(1000);
      const during = await fixedRate(url, REGISTRATION, { rate, seconds: seconds + 2, offset: offsets(1e5) });
      const floodRun = await flood;
      flooded.push(during.p99Ms);
      failures += during.sent - (during.statuses[201] ?? 0);
      refused += floodRun.non2xx;
      floodRps += floodRun.rps / rounds;
    }
    const row = {
      part: 'flood',
      store,
      rate,
      aloneP99Ms: median(alone),
      floodedP99Ms: median(flooded),
      floodRps,
      floodRefused: refused,
      othersFailed: failures,
    };
    row.ratio = row.floodedP99Ms / row.aloneP99Ms;
    results.push(row);
    console.log(
      `flood ${store}: others p99 ${row.aloneP99Ms.toFixed(1)} ms alone, ${row.floodedP99Ms.toFixed(1)} ms under a ` +
        `${floodRps.toFixed(0)}/s flood (${row.ratio.toFixed(2)}x); flood refused ${refused}; others not 201: ${failures}`,
    );
    await stop(server);
  }
}

/** Part 3: registration p99 while the reaper deletes a million idle clients. */
async function reaperPart(results) {
  const path = join(workDir, 'reaper.db');
  // The server creates the schema; then the idle clients go in with one transaction.
  const migrator = await start('reaper-migrate', { DCR_STORE: 'sqlite', DATABASE_PATH: path, DCR_REAP_INTERVAL: '0' });
  await stop(migrator);
  const Database = require('better-sqlite3');
  const db = new Database(path);
  const old = Math.floor(Date.now() / 1000) - 30 * 86400;
  const insert = db.prepare(
    `insert into dcr_clients (client_id, metadata, client_id_issued_at, client_secret_expires_at,
       registered_via, created_at, updated_at) values (?, ?, ?, 0, 'anonymous', ?, ?)`,
  );
  const metadata = JSON.stringify({ ...mcpClientMetadata('none'), token_endpoint_auth_method: 'none' });
  const loadStarted = performance.now();
  db.transaction(() => {
    for (let i = 0; i < reapClients; i += 1)
      insert.run(`idle-${i.toString(36).padStart(6, '0')}`, metadata, old, old, old);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const count = () => db.prepare(`select count(*) as n from dcr_clients where client_id like 'idle-%'`).get().n;
  console.log(`reaper: ${count()} idle clients loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
  const copy = join(workDir, 'reaper-baseline.db');
  copyFileSync(path, copy);

  const baseline = await start('reaper-off', { DCR_STORE: 'sqlite', DATABASE_PATH: copy, DCR_REAP_INTERVAL: '0' });
  await fixedRate(`${baseline.origin}/register`, REGISTRATION, { rate, seconds: 2, offset: offsets(1e5) });
  const quiet = await fixedRate(`${baseline.origin}/register`, REGISTRATION, {
    rate,
    seconds: 10,
    offset: offsets(1e5),
  });
  await stop(baseline);

  const reaping = await start('reaper-on', { DCR_STORE: 'sqlite', DATABASE_PATH: path, DCR_REAP_INTERVAL: '5s' });
  const started = performance.now();
  const samples = [];
  let remaining = count();
  while (remaining > 0 && performance.now() - started < 600_000) {
    const before = remaining;
    const run = await fixedRate(`${reaping.origin}/register`, REGISTRATION, { rate, seconds: 5, offset: offsets(1e5) });
    remaining = count();
    samples.push({ ...run, before, remaining });
    console.log(`  reaping: ${remaining} idle left, registrations p99 ${run.p99Ms?.toFixed(1)} ms`);
  }
  const elapsed = (performance.now() - started) / 1000;
  await stop(reaping);
  db.close();
  // The windows in which the reaper was deleting: the idle count fell during them.
  const during = samples.filter((s) => s.remaining < s.before);
  const row = {
    part: 'reaper',
    clients: reapClients,
    quietP99Ms: quiet.p99Ms,
    reapingP99Ms: median(during.map((s) => s.p99Ms)),
    reapingWorstP99Ms: Math.max(...during.map((s) => s.p99Ms ?? 0)),
    reapedAll: remaining === 0,
    seconds: elapsed,
    othersFailed:
      samples.reduce((sum, s) => sum + s.sent - (s.statuses[201] ?? 0), 0) + quiet.sent - (quiet.statuses[201] ?? 0),
  };
  row.ratio = row.reapingP99Ms / row.quietP99Ms;
  results.push(row);
  console.log(
    `reaper: p99 ${row.quietP99Ms.toFixed(1)} ms with the reaper off, ${row.reapingP99Ms.toFixed(1)} ms while reaping ` +
      `(median of the 5 s windows' p99, ${row.ratio.toFixed(2)}x; worst window ${row.reapingWorstP99Ms.toFixed(1)} ms); all reaped: ${row.reapedAll} in ${elapsed.toFixed(0)} s; not 201: ${row.othersFailed}`,
  );
}

const results = [];
console.log(
  `bench:limits on ${cpus().length} cores, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
try {
  if (parts.includes('cost')) await costPart(results);
  if (parts.includes('flood')) await floodPart(results);
  if (parts.includes('reaper')) await reaperPart(results);
  const out = join(root, 'bench', 'results');
  if (!existsSync(out)) mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'limits-latest.json'),
    `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`,
  );
} finally {
  for (const server of running) await stopServer(server).catch(() => {});
  rmSync(workDir, { recursive: true, force: true });
}

// npm run bench:durable: a durable SQLite registration on the reference server, as deployed (audit
// trail on, default rate limits, behind a trusted proxy so that every request has its own client
// address), side by side with ../shared/bench/bare-sqlite.mjs, the least work a durable
// registration can do. Both answer 201 only after an fsync'd commit (WAL, synchronous=FULL, group
// commit). Rounds interleave the two servers, starting with a different one each round; each ratio
// is the median of the per-round ratios. Figures are printed, never asserted.
//
// Knobs (environment): BENCH_SECONDS (3), BENCH_ROUNDS (5), BENCH_CONNECTIONS (16,64),
// BENCH_DURABLE_BODY (confidential | public; default confidential, which draws and hashes a secret
// as bare-sqlite does), BENCH_DURABLE_VARIANTS (extra reference-server variants, comma-separated:
// noaudit, nolimits, quiet), BENCH_CPU_PROF (1: V8 CPU profile of each reference server into
// bench/results/profiles/durable-<name>.cpuprofile; summarise with bench/profile-summary.mjs),
// BENCH_COUNT_FSYNC (1: count each server's fsync + fdatasync calls with `perf stat`, printed as
// requests per fsync: how many registrations share one durable commit), BENCH_COMPARE_ROOT (another
// checkout, built: its reference server runs as `reference@compare`, interleaved in the same run).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wrkRun } from './limits-load.mjs';
import { findWrk } from './load.mjs';
import { mcpClientMetadata } from './scenarios.mjs';
import { countFsyncs, cpuSeconds, startServer, stopServer } from './servers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const baselinesDir = join(root, '..', 'shared', 'bench');
const profileDir = join(root, 'bench', 'results', 'profiles');
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

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const connectionCounts = list(process.env.BENCH_CONNECTIONS, '16,64').map(Number);
const bodyKind = process.env.BENCH_DURABLE_BODY ?? 'confidential';
const cpuProfile = process.env.BENCH_CPU_PROF === '1';
const fsyncCounting = process.env.BENCH_COUNT_FSYNC === '1';
const wrk = findWrk();
if (!wrk) {
  console.error('bench:durable needs wrk (one Lua request() per request gives each its own address)');
  process.exit(1);
}

// An MCP client as VS Code and Claude send it, without software_id (every install of one
// software_id shares one rate-limit bucket, which thousands of registrations a second would empty).
const {
  software_id: _id,
  software_version: _version,
  ...metadata
} = mcpClientMetadata(bodyKind === 'public' ? 'none' : 'client_secret_post');
const REGISTRATION = {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
  body: JSON.stringify(metadata),
};

const workDir = mkdtempSync(join(tmpdir(), 'oauth-dcr-durable-'));
const logDir = join(workDir, 'logs');
mkdirSync(logDir);
if (cpuProfile) mkdirSync(profileDir, { recursive: true });
const running = new Set();

const VARIANTS = {
  noaudit: { DCR_PERSIST_AUDIT: 'false' },
  nolimits: { DCR_RATE_LIMITS: 'off' },
  quiet: { LOG_LEVEL: 'warn' },
};

function definitions() {
  const reference = (name, env, serverRoot = root) => ({
    name,
    args: [
      ...(cpuProfile
        ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=durable-${name}.cpuprofile`]
        : []),
      join(serverRoot, 'packages', 'server', 'dist', 'cli.js'),
      'serve',
    ],
    env: { DCR_STORE: 'sqlite', DATABASE_PATH: join(workDir, `${name}.db`), DCR_TRUST_PROXY: '127.0.0.1', ...env },
  });
  const defs = [
    {
      name: 'bare-sqlite',
      args: (port) => [join(baselinesDir, 'bare-sqlite.mjs'), '--port', String(port), '--db', join(workDir, 'bare.db')],
      env: { BSQLITE_DIR: root },
      readyPath: '/',
    },
    reference('reference', {}),
  ];
  for (const variant of list(process.env.BENCH_DURABLE_VARIANTS, '')) {
    if (!VARIANTS[variant]) throw new Error(`BENCH_DURABLE_VARIANTS: unknown variant ${variant}`);
    defs.push(reference(`reference-${variant}`, VARIANTS[variant]));
  }
  const compareRoot = process.env.BENCH_COMPARE_ROOT;
  if (compareRoot) defs.push(reference('reference@compare', {}, compareRoot));
  return defs;
}

// Every run draws its client addresses from a fresh stretch of 10.0.0.0/8.
let nextOffset = 1;
function offsets(count) {
  const offset = nextOffset;
  nextOffset += count;
  return offset;
}

async function measure(server, connections) {
  const before = cpuSeconds(server.pid);
  const fsyncs = fsyncCounting ? countFsyncs(server.pid) : null;
  const result = await wrkRun(wrk, `${server.origin}/register`, REGISTRATION, {
    from: 'many',
    offset: offsets(1e6),
    connections,
    seconds,
  });
  const cpuMsPerRequest = ((cpuSeconds(server.pid) - before) * 1000) / Math.max(1, result.requests);
  const fsyncCount = fsyncs ? await fsyncs.stop() : null;
  return { ...result, cpuMsPerRequest, requestsPerFsync: fsyncCount ? result.requests / fsyncCount : null };
}

async function main() {
  console.log(
    `bench:durable  body=${bodyKind}  rounds=${rounds} x ${seconds}s  connections=${connectionCounts.join(',')}  load=${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const servers = [];
  for (const def of definitions()) {
    const server = await startServer({ ...def, cwd: root, logDir });
    running.add(server);
    servers.push(server);
  }
  const rows = [];
  for (const connections of connectionCounts) {
    for (const server of servers) await measure(server, connections); // warm-up, not counted
    const samples = new Map(servers.map((s) => [s.name, []]));
    for (let round = 0; round < rounds; round += 1) {
      // Start with a different server each round: a neighbour's burst spoils one sample per side.
      const order = servers.map((_, i) => servers[(i + round) % servers.length]);
      for (const server of order) samples.get(server.name).push(await measure(server, connections));
    }
    const bare = samples.get('bare-sqlite');
    for (const server of servers) {
      const mine = samples.get(server.name);
      const ratios = mine.map((sample, i) => sample.rps / bare[i].rps);
      rows.push({
        server: server.name,
        connections,
        rps: median(mine.map((s) => s.rps)),
        p99Ms: median(mine.map((s) => s.p99Ms)),
        cpuMsPerRequest: median(mine.map((s) => s.cpuMsPerRequest)),
        ratio: median(ratios),
        ratioMin: Math.min(...ratios),
        ratioMax: Math.max(...ratios),
        requestsPerFsync: fsyncCounting ? median(mine.map((s) => s.requestsPerFsync ?? 0)) : null,
        failed: mine.reduce((sum, s) => sum + s.non2xx + s.errors, 0),
      });
    }
  }
  printTable(rows);
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const reference = rows.filter((r) => r.server === 'reference');
  for (const row of reference) {
    const verdict = row.ratio >= 0.8 ? 'met' : 'MISSED';
    console.log(`target >= 0.80x bare-sqlite at c${row.connections}: ${row.ratio.toFixed(2)}x  ${verdict}`);
  }
}

function printTable(rows) {
  const header = ['server', 'conns', 'req/s', 'p99 ms', 'CPU ms/req', 'req/fsync', 'x bare-sqlite (min-max)', 'failed'];
  const lines = rows.map((r) => [
    r.server,
    String(r.connections),
    Math.round(r.rps).toLocaleString('en-US'),
    r.p99Ms.toFixed(1),
    r.cpuMsPerRequest.toFixed(3),
    r.requestsPerFsync === null ? '-' : r.requestsPerFsync.toFixed(1),
    `${r.ratio.toFixed(2)}x (${r.ratioMin.toFixed(2)}-${r.ratioMax.toFixed(2)})`,
    String(r.failed),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}

async function cleanup() {
  await Promise.allSettled([...running].map((server) => stopServer(server)));
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

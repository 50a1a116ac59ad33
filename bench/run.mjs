// npm run bench: the reference server (`node packages/server/dist/cli.js serve`, memory and SQLite stores) against
// a bare node:http baseline measured in the same run, plus the cost of one secret verification.
// Prints figures and ratios; never fails on a figure. Results go to bench/results/latest.json.
//
// Knobs (environment): BENCH_SECONDS (2), BENCH_WARMUP (1, before the first round), BENCH_ROUNDS
// (3; every figure is the median over rounds, each round interleaving the servers, so a noisy
// neighbour's burst spoils one sample rather than one side of a ratio), BENCH_CONNECTIONS (1,16,64),
// BENCH_SCENARIOS (ids from bench/scenarios.mjs), BENCH_STORES (memory,sqlite; diagnostic
// variants: memory-nolog, memory-noaudit, memory-quiet, sqlite-*, library-memory, library-sqlite,
// library-express-memory),
// BENCH_TOOL (wrk | autocannon; default wrk when installed), BENCH_CPU_PROF (1: write V8 CPU
// profiles of the reference servers to bench/results/profiles/), BENCH_COUNT_FSYNC (1: count
// fsync/fdatasync calls per request with `perf stat`, to see how well commits are grouped),
// BENCH_PIN (1: pin servers to CPU 0 and wrk to CPU 1 with taskset).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { findWrk, runLoad } from './load.mjs';
import { SCENARIOS, checkRequest, discoverEndpoints } from './scenarios.mjs';
import { measureSecretHashing } from './secret-hashing.mjs';
import { countFsyncs, startServer, stopServer } from './servers.mjs';
import { evaluateTargets, hashingLines, markdownTable, targetLines, textTable } from './report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = join(root, 'bench', 'results');
const median = (values) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const list = (value, fallback) =>
  (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const warmup = Number(process.env.BENCH_WARMUP ?? 1);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const connectionCounts = list(process.env.BENCH_CONNECTIONS, '1,16,64').map(Number);
const scenarioIds = list(process.env.BENCH_SCENARIOS, SCENARIOS.map((s) => s.id).join(','));
const stores = list(process.env.BENCH_STORES, 'memory,sqlite');
const cpuProfile = process.env.BENCH_CPU_PROF === '1';
const fsyncCounting = process.env.BENCH_COUNT_FSYNC === '1';
const wrk = findWrk();
const tool = process.env.BENCH_TOOL === 'autocannon' || !wrk ? 'autocannon' : wrk;
const toolName = tool === 'autocannon' ? 'autocannon' : 'wrk';

// BENCH_PIN=1: servers on CPU 0, wrk on CPU 1. Off by default: on the shared 2-core machine it
// did not make runs steadier (other tenants' processes still land on either core).
const canPin = process.env.BENCH_PIN === '1' && cpus().length >= 2 && commandExists('taskset') && toolName === 'wrk';
const serverCpu = canPin ? 0 : undefined;
const loadCpu = canPin ? 1 : undefined;

const scenarios = SCENARIOS.filter((s) => scenarioIds.includes(s.id));
const plannedRuns = scenarios.length * connectionCounts.length * (stores.length + 1) * rounds;
// Hard ceiling on the whole run: every load run is bounded, but a wedged child must not hang CI.
const ceilingMs = (plannedRuns * (seconds + warmup + 20) + 120) * 1000;

const workDir = mkdtempSync(join(tmpdir(), 'oauth-dcr-bench-'));
const running = [];

async function cleanup() {
  await Promise.allSettled(running.map((server) => stopServer(server)));
  rmSync(workDir, { recursive: true, force: true });
}

const watchdog = setTimeout(async () => {
  console.error(`bench: still running after ${Math.round(ceilingMs / 1000)} s; stopping.`);
  await cleanup();
  process.exit(2);
}, ceilingMs);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await cleanup();
    process.exit(130);
  });
}

function commandExists(command) {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch (error) {
    return error.code !== 'ENOENT';
  }
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

function serverDefinitions() {
  const reference = (store, env) => ({
    name: store,
    store,
    args: [
      ...(cpuProfile
        ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, 'profiles')}`, `--cpu-prof-name=${store}.cpuprofile`]
        : []),
      join(root, 'packages', 'server', 'dist', 'cli.js'),
      'serve',
    ],
    env: {
      // client_credentials is opt-in (RFC 9700 defaults); scenario b needs it.
      DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
      ...env,
    },
  });
  const quiet = { LOG_LEVEL: 'warn', DCR_PERSIST_AUDIT: 'false' };
  const library = (store, env) => ({
    name: `library-${store}`,
    store: `library-${store}`,
    args: [join(root, 'bench', 'library-server.mjs')],
    env: { BENCH_LIBRARY_STORE: store, ...env },
  });
  const all = {
    baseline: { name: 'baseline', store: 'baseline', args: [join(root, 'bench', 'baseline.mjs')], env: {} },
    memory: reference('memory', { DCR_STORE: 'memory' }),
    // Durable: the SQLite store runs WAL + synchronous=FULL with group commit; a 201 is on disk.
    sqlite: reference('sqlite', { DCR_STORE: 'sqlite', DATABASE_PATH: join(workDir, 'bench.db') }),
    // Diagnostics (opt-in through BENCH_STORES): what logging and the persisted audit trail cost,
    // and what the library costs without the reference server around it.
    'memory-nolog': reference('memory-nolog', { DCR_STORE: 'memory', LOG_LEVEL: 'warn' }),
    'memory-noaudit': reference('memory-noaudit', { DCR_STORE: 'memory', DCR_PERSIST_AUDIT: 'false' }),
    'memory-quiet': reference('memory-quiet', { DCR_STORE: 'memory', ...quiet }),
    'sqlite-nolog': reference('sqlite-nolog', {
      DCR_STORE: 'sqlite',
      DATABASE_PATH: join(workDir, 'nolog.db'),
      LOG_LEVEL: 'warn',
    }),
    'sqlite-noaudit': reference('sqlite-noaudit', {
      DCR_STORE: 'sqlite',
      DATABASE_PATH: join(workDir, 'noaudit.db'),
      DCR_PERSIST_AUDIT: 'false',
    }),
    'sqlite-quiet': reference('sqlite-quiet', {
      DCR_STORE: 'sqlite',
      DATABASE_PATH: join(workDir, 'quiet.db'),
      ...quiet,
    }),
    'library-memory': library('memory', {}),
    'library-sqlite': library('sqlite', { DATABASE_PATH: join(workDir, 'library.db') }),
    'library-express-memory': {
      ...library('memory', { BENCH_LIBRARY_HTTP: 'express' }),
      name: 'library-express-memory',
      store: 'library-express-memory',
    },
  };
  for (const store of stores)
    if (!all[store]) throw new Error(`BENCH_STORES: unknown store ${store} (known: ${Object.keys(all).join(', ')})`);
  return [all.baseline, ...stores.map((s) => all[s]).filter(Boolean)];
}

async function main() {
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadavgAtStart: loadavg().map((v) => Number(v.toFixed(2))),
    tool: toolName,
    seconds,
    warmup,
    rounds,
    pinned: canPin,
    connections: connectionCounts,
    commit: gitCommit(),
  };
  console.log(
    `oauth-dcr bench: node ${meta.node}, ${meta.cpus} cores (${meta.cpuModel}), load average ${meta.loadavgAtStart.join(' ')}`,
  );
  console.log(
    `load: ${toolName}${toolName === 'wrk' ? ' -t1' : ''}, ${warmup} s warm-up, then ${rounds} round(s) of ${seconds} s per server ` +
      `(medians reported), connections ${connectionCounts.join('/')}, 127.0.0.1 only` +
      (canPin ? '; servers pinned to CPU 0, wrk to CPU 1' : ''),
  );
  console.log('Figures, not assertions: the machine is shared; each ratio pairs runs made seconds apart.\n');

  // c. Secret hashing, first, while no server is running.
  console.log('c. Client secret verification cost');
  const hashing = measureSecretHashing();

  const referenceBuilt = existsSync(join(root, 'packages', 'server', 'dist', 'cli.js'));
  if (!referenceBuilt)
    console.log('packages/server/dist/cli.js is missing: only the baseline is measured. Run `npm run build`.');
  if (cpuProfile) mkdirSync(join(resultsDir, 'profiles'), { recursive: true });

  const servers = [];
  for (const def of serverDefinitions()) {
    if (def.store !== 'baseline' && !referenceBuilt) continue; // everything else runs on dist/
    const server = await startServer({ ...def, cwd: workDir, logDir: workDir, cpu: serverCpu });
    running.push(server);
    server.store = def.store;
    server.endpoints = await discoverEndpoints(server.origin);
    servers.push(server);
    console.log(`started ${def.name} (pid ${server.pid}) at ${server.origin}`);
  }

  const rows = [];
  const problems = [];
  for (const scenario of scenarios) {
    console.log(`\n${scenario.title}`);
    const requests = new Map();
    for (const server of servers) {
      try {
        const request = await scenario.prepare(server.endpoints, server.origin);
        await checkRequest(request, scenario.expectStatus);
        requests.set(server, request);
      } catch (error) {
        problems.push(`${scenario.id} on ${server.store}: ${error.message}`);
        console.log(`  skipped on ${server.store}: ${error.message}`);
      }
    }
    for (const connections of connectionCounts) {
      // Baseline and reference servers back to back at each connection count (and, with
      // BENCH_ROUNDS > 1, round after round), so a noisy neighbour hits both sides of a ratio alike.
      const samples = new Map([...requests.keys()].map((server) => [server, []]));
      for (let round = 0; round < rounds; round++) {
        for (const [server, request] of requests) {
          if (warmup > 0 && round === 0) await runLoad(tool, request, { connections, seconds: warmup, cpu: loadCpu });
          const fsyncCounter = fsyncCounting ? countFsyncs(server.pid) : null;
          const cpuBefore = server.cpuSeconds();
          const result = await runLoad(tool, request, { connections, seconds, cpu: loadCpu });
          const cpu = server.cpuSeconds() - cpuBefore;
          const fsyncs = fsyncCounter ? await fsyncCounter.stop() : null;
          const failed = result.non2xx + result.errors;
          const sample = {
            requests: result.requests,
            // Only answers with the expected class count as throughput.
            rps: (result.requests - result.non2xx) / result.seconds,
            p50Ms: result.p50Ms,
            p99Ms: result.p99Ms,
            cpuMsPerRequest: result.requests > 0 ? (cpu * 1000) / result.requests : null,
            fsyncsPerRequest: fsyncs === null || result.requests === 0 ? null : fsyncs / result.requests,
            failed,
          };
          samples.get(server).push(sample);
          console.log(
            `  ${server.store.padEnd(8)} c=${String(connections).padEnd(3)}${rounds > 1 ? ` #${round + 1}` : ''} ` +
              `${Math.round(sample.rps).toString().padStart(6)} req/s  p50 ${sample.p50Ms.toFixed(2)} ms  ` +
              `p99 ${sample.p99Ms.toFixed(2)} ms  CPU ${sample.cpuMsPerRequest?.toFixed(3) ?? '-'} ms/req` +
              (sample.fsyncsPerRequest != null ? `  fsync/req ${sample.fsyncsPerRequest.toFixed(3)}` : '') +
              (failed ? `  (${failed} failed)` : ''),
          );
          await sleep(100);
        }
      }
      const baseSamples = [...samples].find(([server]) => server.store === 'baseline')?.[1];
      for (const [server, list] of samples) {
        const requestsTotal = list.reduce((sum, x) => sum + x.requests, 0);
        const failed = list.reduce((sum, x) => sum + x.failed, 0);
        rows.push({
          scenario: scenario.id,
          store: server.store,
          connections,
          rounds: list.length,
          requests: requestsTotal,
          rps: median(list.map((x) => x.rps)),
          p50Ms: median(list.map((x) => x.p50Ms)),
          p99Ms: median(list.map((x) => x.p99Ms)),
          cpuMsPerRequest: median(list.map((x) => x.cpuMsPerRequest).filter((x) => x !== null)),
          fsyncsPerRequest: median(list.map((x) => x.fsyncsPerRequest).filter((x) => x != null)),
          failed,
          failedShare: requestsTotal > 0 ? failed / requestsTotal : 1,
          // Median of the per-round ratios: each pairs runs made seconds apart.
          ratio:
            baseSamples && server.store !== 'baseline'
              ? median(
                  list
                    .map((x, i) => (baseSamples[i]?.rps ? x.rps / baseSamples[i].rps : null))
                    .filter((x) => x !== null),
                )
              : null,
        });
      }
    }
  }

  for (const server of servers) await stopServer(server);
  running.length = 0;
  meta.loadavgAtEnd = loadavg().map((v) => Number(v.toFixed(2)));

  // Report.
  console.log('\n==== Results ====');
  for (const scenario of scenarios) {
    console.log(`\n${scenario.title}\n${textTable(rows, scenario.id)}`);
  }
  const tokenRow = rows.find(
    (r) => r.scenario === 'token-client-credentials' && r.store === 'memory' && r.connections === 16,
  );
  const hashLines = hashingLines(hashing, tokenRow?.cpuMsPerRequest);
  console.log(`\nc. Client secret verification (one core, in-process)\n${hashLines.map((l) => `  ${l}`).join('\n')}`);
  const targets = evaluateTargets(rows);
  const verdicts = targetLines(targets);
  console.log('\nTargets');
  for (const v of verdicts) console.log(`  ${v.text}`);
  if (problems.length) {
    console.log('\nProblems');
    for (const p of problems) console.log(`  ${p}`);
  }

  mkdirSync(resultsDir, { recursive: true });
  meta.loadavgAtEnd = loadavg().map((v) => Number(v.toFixed(2)));
  writeFileSync(
    join(resultsDir, 'latest.json'),
    `${JSON.stringify({ meta, hashing, rows, targets, problems }, null, 2)}\n`,
  );
  const md = [
    ...scenarios.flatMap((s) => [`### ${s.title}`, '', markdownTable(rows, s.id), '']),
    '### c. Client secret verification',
    '',
    ...hashLines.map((l) => `- ${l}`),
    '',
    '### Targets',
    '',
    ...verdicts.map((v) => `- ${v.text}`),
    '',
  ].join('\n');
  writeFileSync(join(resultsDir, 'latest.md'), md);
  console.log(
    `\nWrote bench/results/latest.json and bench/results/latest.md (load average at end ${meta.loadavgAtEnd.join(' ')}).`,
  );
}

try {
  await main();
} catch (error) {
  console.error(`bench failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}

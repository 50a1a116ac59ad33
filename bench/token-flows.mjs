// npm run bench:tokens — the token endpoint in the MCP steady state (issue 9, "Performance"):
// the reference server (`node packages/server/dist/cli.js serve`, SQLite and memory stores)
// against the durable and in-memory registration baselines (bare-sqlite.mjs, bare.mjs from
// ../shared/bench), all driven by the same closed-loop Node generator (bench/closed-loop.mjs),
// measured in the same run. Prints figures and ratios; never fails on a figure.
//
// Flows (BENCH_FLOWS, ids from bench/token-scenarios.mjs): register, refresh, code,
// client-credentials. Each flow, connection count and round loads every server back to back
// (baselines first), so each ratio pairs runs made seconds apart; figures are medians over rounds.
//
// Knobs: BENCH_SECONDS (3), BENCH_WARMUP (1), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16,64),
// BENCH_STORES (sqlite,memory), BENCH_FLOWS, BENCH_PIN (1: servers on CPU 0, generator on CPU 1),
// BENCH_BASELINES (directory of bare.mjs and bare-sqlite.mjs; default ../shared/bench),
// BENCH_CPU_PROF (1: V8 CPU profiles of the reference servers in bench/results/profiles/),
// BENCH_COUNT_FSYNC (1: fsync + fdatasync calls per request, counted with `perf stat`),
// BENCH_FIRST_SEEN_MAX (10000: first-seen tokens minted per verification run at most),
// BENCH_COMPARE_ROOT (another checkout, built: its reference server runs beside this one's as
// `<store>@compare`, interleaved round by round, to weigh a change).
// Results: bench/results/tokens-latest.json and tokens-latest.md.
import { fork, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDocumentHost } from './document-host.mjs';
import { MCP_FLOWS } from './mcp-scenarios.mjs';
import { countFsyncs, freePort, startServer, stopServer } from './servers.mjs';
import { TOKEN_FLOWS } from './token-scenarios.mjs';
import { seedIntrospectionCaller, serverDefinitions } from './token-servers.mjs';
import { evaluateTokenTargets, flowTable, median, targetText } from './token-report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = join(root, 'bench', 'results');
const list = (value, fallback) =>
  (value || fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const warmup = Number(process.env.BENCH_WARMUP ?? 1);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const connectionCounts = list(process.env.BENCH_CONNECTIONS, '16,64').map(Number);
const stores = list(process.env.BENCH_STORES, 'sqlite,memory');
const ALL_FLOWS = [...TOKEN_FLOWS, ...MCP_FLOWS];
const flowIds = list(process.env.BENCH_FLOWS, ALL_FLOWS.map((f) => f.id).join(','));
const baselinesDir = process.env.BENCH_BASELINES ?? join(root, '..', 'shared', 'bench');
const cpuProfile = process.env.BENCH_CPU_PROF === '1';
const fsyncCounting = process.env.BENCH_COUNT_FSYNC === '1';
const pin = process.env.BENCH_PIN !== '0' && cpus().length >= 2 && hasTaskset();
const serverCpu = pin ? 0 : undefined;

const workDir = mkdtempSync(join(tmpdir(), 'oauth-dcr-token-bench-'));
const running = [];
const cleanups = [];
let generator;

function hasTaskset() {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function cleanup() {
  generator?.kill();
  await Promise.allSettled(running.map((server) => stopServer(server)));
  await Promise.allSettled(cleanups.map((close) => close()));
  rmSync(workDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, async () => {
    await cleanup();
    process.exit(130);
  });

/** The generator child, pinned to CPU 1; `load(job)` resolves its figures. */
function startGenerator() {
  const child = fork(fileURLToPath(new URL('./closed-loop.mjs', import.meta.url)), [], { stdio: 'inherit' });
  // -a: every thread of the process, not only the main one.
  if (pin) execFileSync('taskset', ['-a', '-pc', '1', String(child.pid)], { stdio: 'ignore' });
  const waiting = new Map();
  let nextId = 0;
  child.on('message', ({ id, result, error }) => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (error) entry?.reject(new Error(error));
    else entry?.resolve(result);
  });
  child.on('exit', (code) => {
    for (const entry of waiting.values()) entry.reject(new Error(`the load generator exited (${code})`));
  });
  return {
    kill: () => child.kill(),
    load(job) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.send({ id, job });
      });
    },
  };
}

async function main() {
  for (const file of ['bare.mjs', 'bare-sqlite.mjs'])
    if (!existsSync(join(baselinesDir, file)))
      throw new Error(`baseline ${file} not found in ${baselinesDir} (set BENCH_BASELINES)`);
  if (!existsSync(join(root, 'packages', 'server', 'dist', 'cli.js')))
    throw new Error('packages/server/dist/cli.js is missing: run `npm run build` first');
  const flows = ALL_FLOWS.filter((f) => flowIds.includes(f.id));
  const meta = {
    date: new Date().toISOString(),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(),
    node: process.version,
    cpus: cpus().length,
    loadavgAtStart: loadavg().map((v) => Number(v.toFixed(2))),
    seconds,
    warmup,
    rounds,
    pinned: pin,
    connections: connectionCounts,
  };
  console.log(`oauth-dcr token bench at ${meta.commit}: node ${meta.node}, load average ${meta.loadavgAtStart}`);
  console.log(
    `closed-loop Node generator${pin ? ' on CPU 1, servers on CPU 0' : ''}; ${warmup} s warm-up, ` +
      `${rounds} round(s) of ${seconds} s per server (medians), connections ${connectionCounts.join('/')}\n`,
  );
  if (cpuProfile) mkdirSync(join(resultsDir, 'profiles'), { recursive: true });

  const serverOptions = { cwd: workDir, logDir: workDir, cpu: serverCpu };
  const mcpPort = await freePort();
  const mcpResource = `http://127.0.0.1:${mcpPort}/mcp`;
  const documents = flows.some((f) => f.needsDocuments) ? await startDocumentHost(workDir) : undefined;
  if (documents) cleanups.push(() => documents.close());
  const servers = [];
  const definitions = serverDefinitions({
    root,
    workDir,
    baselinesDir,
    stores,
    mcpResource,
    documents,
    cpuProfile,
    compareRoot: process.env.BENCH_COMPARE_ROOT,
  });
  for (const def of definitions) {
    const introspection = flows.some((f) => f.needsIntrospection)
      ? await seedIntrospectionCaller(def, serverOptions)
      : undefined;
    const readyPath = def.kind === 'baseline' ? '/' : undefined;
    const server = await startServer({ ...def, ...serverOptions, ...(readyPath ? { readyPath } : {}) });
    running.push(server);
    Object.assign(server, { kind: def.kind, store: def.name, mcpResource, introspection });
    servers.push(server);
    console.log(`started ${def.name} (pid ${server.pid}) at ${server.origin}`);
  }
  generator = startGenerator();
  const context = {
    root,
    servers,
    documents,
    mcpPort,
    mcpResource,
    maxConnections: Math.max(...connectionCounts),
    generator,
    serverOptions,
    /** Servers a flow starts for itself (stopped at the end). */
    async startExtra(start) {
      const server = await start(serverOptions);
      running.push(server);
      return server;
    },
  };

  const rows = [];
  const problems = [];
  const checks = [];
  for (const flow of flows) {
    console.log(`\n${flow.title}`);
    if (flow.check) {
      try {
        checks.push(...(await flow.check(context)));
      } catch (error) {
        problems.push(`${flow.id}: ${error.message}`);
        console.log(`  failed: ${error.message}`);
      }
      continue;
    }
    const states = new Map();
    let participants = [];
    try {
      participants = flow.participants ? await flow.participants(context) : servers.map(asParticipant);
    } catch (error) {
      problems.push(`${flow.id}: ${error.message}`);
      console.log(`  skipped: ${error.message}`);
    }
    for (const participant of participants) {
      try {
        states.set(participant, await flow.prepare(participant, context));
      } catch (error) {
        problems.push(`${flow.id} on ${participant.label}: ${error.message}`);
        console.log(`  skipped on ${participant.label}: ${error.message}`);
      }
    }
    for (const connections of connectionCounts) {
      const samples = new Map([...states.keys()].map((participant) => [participant, []]));
      const entries = [...states];
      for (let round = 0; round < rounds; round++) {
        // Each round starts one participant later, so no side is always the first (or the last) loaded.
        const order = entries.map((_, i) => entries[(i + round) % entries.length]);
        for (const [participant, state] of order) {
          const { server } = participant;
          // The job is built (codes minted, dead chains replaced) before the server's CPU is read.
          const jobFor = async (runSeconds, estimate) => ({
            ...(await flow.job(participant, state, { connections, seconds: runSeconds, estimate })),
            origin: server.origin,
            connections,
            seconds: runSeconds,
          });
          if (round === 0 && warmup > 0) {
            const warm = await generator.load(await jobFor(warmup, null));
            state.lastRate = warm.rps;
            flow.settle?.(state, warm);
          }
          const job = await jobFor(seconds, state.lastRate);
          await sleep(100);
          const fsyncCounter = fsyncCounting ? countFsyncs(server.pid) : null;
          const cpuBefore = server.cpuSeconds();
          const result = await generator.load(job);
          const cpu = server.cpuSeconds() - cpuBefore;
          const fsyncs = fsyncCounter ? await fsyncCounter.stop() : null;
          flow.settle?.(state, result);
          state.lastRate = result.rps;
          const sample = {
            ...result,
            cpuMsPerRequest: result.requests ? (cpu * 1000) / result.requests : null,
            fsyncsPerRequest: fsyncs === null || !result.requests ? null : fsyncs / result.requests,
          };
          samples.get(participant).push(sample);
          console.log(
            `  ${participant.label.padEnd(18)} c=${String(connections).padEnd(3)} #${round + 1} ` +
              `${Math.round(sample.rps).toString().padStart(6)} req/s  p50 ${sample.p50Ms?.toFixed(2)} ms  ` +
              `p99 ${sample.p99Ms?.toFixed(2)} ms  CPU ${sample.cpuMsPerRequest?.toFixed(3) ?? '-'} ms/req` +
              (sample.fsyncsPerRequest != null ? `  fsync/req ${sample.fsyncsPerRequest.toFixed(3)}` : '') +
              (sample.exhausted ? `  (ran out of pre-minted input after ${sample.seconds.toFixed(1)} s)` : '') +
              (sample.failed ? `  (${sample.failed} failed: ${sample.firstFailure})` : ''),
          );
        }
      }
      rows.push(...summarise(flow, connections, samples));
    }
  }
  generator.kill();
  generator = undefined;
  for (const server of running) await stopServer(server);
  running.length = 0;
  meta.loadavgAtEnd = loadavg().map((v) => Number(v.toFixed(2)));

  console.log('\n==== Results ====');
  const loadFlows = flows.filter((f) => !f.check);
  for (const flow of loadFlows) console.log(`\n${flow.title}\n${flowTable(rows, flow.id, 'text')}`);
  const targets = evaluateTokenTargets(rows, checks);
  console.log('\nTargets');
  for (const t of targets) console.log(`  ${targetText(t)}`);
  if (problems.length) console.log(`\nProblems\n${problems.map((p) => `  ${p}`).join('\n')}`);

  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, 'tokens-latest.json'),
    `${JSON.stringify({ meta, rows, checks, targets, problems }, null, 2)}\n`,
  );
  const md = [
    ...loadFlows.flatMap((f) => [`#### ${f.title}`, '', flowTable(rows, f.id, 'markdown'), '']),
    '#### Targets',
    '',
    ...targets.map((t) => `- ${targetText(t)}`),
    '',
  ].join('\n');
  writeFileSync(join(resultsDir, 'tokens-latest.md'), md);
  console.log(`\nWrote bench/results/tokens-latest.json and tokens-latest.md (load average ${meta.loadavgAtEnd}).`);
}

const asParticipant = (server) => ({ server, side: null, label: server.store });

/** Medians over rounds, and each participant's ratios, round by round, to the baselines and its reference side. */
function summarise(flow, connections, samples) {
  const entries = [...samples];
  const samplesOf = (predicate) => entries.find(([participant]) => predicate(participant))?.[1] ?? [];
  const ratioTo = (list, base) =>
    base.length === 0
      ? null
      : median(list.map((x, i) => (base[i]?.rps ? x.rps / base[i].rps : null)).filter((x) => x !== null));
  // Capacity per core: the reference's CPU per request over this one's. Other tenants' bursts move
  // req/s far more than they move CPU per request, so this is the steadier of the two ratios.
  const cpuRatioTo = (list, base) =>
    base.length === 0
      ? null
      : median(
          list
            .map((x, i) =>
              x.cpuMsPerRequest && base[i]?.cpuMsPerRequest ? base[i].cpuMsPerRequest / x.cpuMsPerRequest : null,
            )
            .filter((x) => x !== null),
        );
  return entries.map(([participant, list]) => {
    const { server, side, label } = participant;
    const requests = list.reduce((sum, x) => sum + x.requests, 0);
    const failed = list.reduce((sum, x) => sum + x.failed, 0);
    const referenceSide = side === null ? undefined : flow.referenceSide?.(side);
    const baseline = server.kind === 'baseline';
    // The reference side on the same server, or (verification in introspection mode) the one there is.
    const sameServer = samplesOf((p) => p.server === server && p.side === referenceSide);
    const reference =
      referenceSide && referenceSide !== side
        ? sameServer.length
          ? sameServer
          : samplesOf((p) => p.side === referenceSide)
        : undefined;
    return {
      flow: flow.id,
      label,
      server: server.store,
      side,
      kind: server.kind,
      connections,
      requests,
      failed,
      failedShare: requests ? failed / requests : 1,
      rps: median(list.map((x) => x.rps)),
      p50Ms: median(list.map((x) => x.p50Ms)),
      p99Ms: median(list.map((x) => x.p99Ms)),
      cpuMsPerRequest: median(list.map((x) => x.cpuMsPerRequest).filter((x) => x !== null)),
      xBareSqlite: baseline
        ? null
        : ratioTo(
            list,
            samplesOf((p) => p.server.store === 'bare-sqlite'),
          ),
      xBare: baseline
        ? null
        : ratioTo(
            list,
            samplesOf((p) => p.server.store === 'bare'),
          ),
      xReference: reference ? ratioTo(list, reference) : null,
      cpuXReference: reference ? cpuRatioTo(list, reference) : null,
      referenceSide: referenceSide ?? null,
    };
  });
}

try {
  await main();
} catch (error) {
  console.error(`bench failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}

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
// BENCH_CPU_PROF (1: V8 CPU profiles of the reference servers in bench/results/profiles/).
// Results: bench/results/tokens-latest.json and tokens-latest.md.
import { fork, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_USER } from './oauth-setup.mjs';
import { freePort, startServer, stopServer } from './servers.mjs';
import { TOKEN_FLOWS } from './token-scenarios.mjs';
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
const flowIds = list(process.env.BENCH_FLOWS, TOKEN_FLOWS.map((f) => f.id).join(','));
const baselinesDir = process.env.BENCH_BASELINES ?? join(root, '..', 'shared', 'bench');
const cpuProfile = process.env.BENCH_CPU_PROF === '1';
const pin = process.env.BENCH_PIN !== '0' && cpus().length >= 2 && hasTaskset();
const serverCpu = pin ? 0 : undefined;

const workDir = mkdtempSync(join(tmpdir(), 'oauth-dcr-token-bench-'));
const running = [];
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

function serverDefinitions(mcpResource) {
  const bareEnv = { BSQLITE_DIR: root };
  const reference = (store, env) => ({
    name: store,
    kind: 'reference',
    args: [
      ...(cpuProfile
        ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, 'profiles')}`, `--cpu-prof-name=tokens-${store}.cpuprofile`]
        : []),
      join(root, 'packages', 'server', 'dist', 'cli.js'),
      'serve',
    ],
    env: {
      DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
      DCR_DEMO_USER: `${BENCH_USER.username}:${BENCH_USER.password}`,
      // The MCP server the tokens are for (RFC 8707); ignored by a server without resource lists.
      DCR_RESOURCES: mcpResource,
      DCR_CODE_TTL: '600',
      ...env,
    },
  });
  const all = {
    'bare-sqlite': {
      name: 'bare-sqlite',
      kind: 'baseline',
      args: (port) => [join(baselinesDir, 'bare-sqlite.mjs'), '--port', String(port), '--db', join(workDir, 'bare.db')],
      env: bareEnv,
    },
    bare: {
      name: 'bare',
      kind: 'baseline',
      args: (port) => [join(baselinesDir, 'bare.mjs'), '--port', String(port), '--hash', 'sha256'],
      env: {},
    },
    sqlite: reference('sqlite', { DCR_STORE: 'sqlite', DATABASE_PATH: join(workDir, 'reference.db') }),
    memory: reference('memory', { DCR_STORE: 'memory' }),
  };
  for (const store of stores) if (!all[store]) throw new Error(`BENCH_STORES: unknown store ${store}`);
  return [all['bare-sqlite'], all.bare, ...stores.map((s) => all[s])];
}

async function main() {
  for (const file of ['bare.mjs', 'bare-sqlite.mjs'])
    if (!existsSync(join(baselinesDir, file)))
      throw new Error(`baseline ${file} not found in ${baselinesDir} (set BENCH_BASELINES)`);
  if (!existsSync(join(root, 'packages', 'server', 'dist', 'cli.js')))
    throw new Error('packages/server/dist/cli.js is missing: run `npm run build` first');
  const flows = TOKEN_FLOWS.filter((f) => flowIds.includes(f.id));
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

  const mcpResource = `http://127.0.0.1:${await freePort()}/mcp`;
  const servers = [];
  for (const def of serverDefinitions(mcpResource)) {
    const server = await startServer({ ...def, cwd: workDir, logDir: workDir, cpu: serverCpu, readyPath: '/' });
    running.push(server);
    Object.assign(server, { kind: def.kind, store: def.name, mcpResource });
    servers.push(server);
    console.log(`started ${def.name} (pid ${server.pid}) at ${server.origin}`);
  }
  generator = startGenerator();

  const rows = [];
  const problems = [];
  for (const flow of flows) {
    console.log(`\n${flow.title}`);
    const states = new Map();
    for (const server of servers) {
      try {
        states.set(server, await flow.prepare(server, { maxConnections: Math.max(...connectionCounts) }));
      } catch (error) {
        problems.push(`${flow.id} on ${server.store}: ${error.message}`);
        console.log(`  skipped on ${server.store}: ${error.message}`);
      }
    }
    for (const connections of connectionCounts) {
      const samples = new Map([...states.keys()].map((server) => [server, []]));
      for (let round = 0; round < rounds; round++) {
        for (const [server, state] of states) {
          // The job is built (codes minted, dead chains replaced) before the server's CPU is read.
          const jobFor = async (runSeconds, estimate) => ({
            ...(await flow.job(server, state, { connections, seconds: runSeconds, estimate })),
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
          const cpuBefore = server.cpuSeconds();
          const result = await generator.load(job);
          const cpu = server.cpuSeconds() - cpuBefore;
          flow.settle?.(state, result);
          state.lastRate = result.rps;
          const sample = { ...result, cpuMsPerRequest: result.requests ? (cpu * 1000) / result.requests : null };
          samples.get(server).push(sample);
          console.log(
            `  ${server.store.padEnd(11)} c=${String(connections).padEnd(3)} #${round + 1} ` +
              `${Math.round(sample.rps).toString().padStart(6)} req/s  p50 ${sample.p50Ms?.toFixed(2)} ms  ` +
              `p99 ${sample.p99Ms?.toFixed(2)} ms  CPU ${sample.cpuMsPerRequest?.toFixed(3) ?? '-'} ms/req` +
              (sample.exhausted ? `  (ran out of pre-minted input after ${sample.seconds.toFixed(1)} s)` : '') +
              (sample.failed ? `  (${sample.failed} failed: ${sample.firstFailure})` : ''),
          );
          await sleep(100);
        }
      }
      const baseline = (name) => [...samples].find(([server]) => server.store === name)?.[1] ?? [];
      const ratioTo = (list, base) =>
        median(list.map((x, i) => (base[i]?.rps ? x.rps / base[i].rps : null)).filter((x) => x !== null));
      for (const [server, list] of samples) {
        const requests = list.reduce((sum, x) => sum + x.requests, 0);
        const failed = list.reduce((sum, x) => sum + x.failed, 0);
        rows.push({
          flow: flow.id,
          server: server.store,
          kind: server.kind,
          connections,
          requests,
          failed,
          failedShare: requests ? failed / requests : 1,
          rps: median(list.map((x) => x.rps)),
          p50Ms: median(list.map((x) => x.p50Ms)),
          p99Ms: median(list.map((x) => x.p99Ms)),
          cpuMsPerRequest: median(list.map((x) => x.cpuMsPerRequest).filter((x) => x !== null)),
          xBareSqlite: server.kind === 'baseline' ? null : ratioTo(list, baseline('bare-sqlite')),
          xBare: server.kind === 'baseline' ? null : ratioTo(list, baseline('bare')),
        });
      }
    }
  }
  generator.kill();
  generator = undefined;
  for (const server of servers) await stopServer(server);
  running.length = 0;
  meta.loadavgAtEnd = loadavg().map((v) => Number(v.toFixed(2)));

  console.log('\n==== Results ====');
  for (const flow of flows) console.log(`\n${flow.title}\n${flowTable(rows, flow.id, 'text')}`);
  const targets = evaluateTokenTargets(rows);
  console.log('\nTargets');
  for (const t of targets) console.log(`  ${targetText(t)}`);
  if (problems.length) console.log(`\nProblems\n${problems.map((p) => `  ${p}`).join('\n')}`);

  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, 'tokens-latest.json'),
    `${JSON.stringify({ meta, rows, targets, problems }, null, 2)}\n`,
  );
  const md = [
    ...flows.flatMap((f) => [`#### ${f.title}`, '', flowTable(rows, f.id, 'markdown'), '']),
    '#### Targets',
    '',
    ...targets.map((t) => `- ${targetText(t)}`),
    '',
  ].join('\n');
  writeFileSync(join(resultsDir, 'tokens-latest.md'), md);
  console.log(`\nWrote bench/results/tokens-latest.json and tokens-latest.md (load average ${meta.loadavgAtEnd}).`);
}

try {
  await main();
} catch (error) {
  console.error(`bench failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}

// Servers under test run as child processes, started the way users start them. Readiness is
// polled over HTTP; CPU is read from /proc/<pid>/stat (utime + stime) around each measured run.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';

/** Linux clock ticks per second for /proc stat fields (getconf CLK_TCK; 100 on every Linux we run). */
const CLOCK_TICKS = 100;

export async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node <args>` (`args` may be a function of the chosen port) with `env` added (pinned to CPU `cpu` when given), logs to `<logDir>/<name>.log`, and waits until any HTTP
 * answer comes back from `readyPath`. Throws (after killing the child) if it exits or takes too long.
 */
export async function startServer({
  name,
  args,
  env,
  cwd,
  logDir,
  cpu,
  readyPath = '/.well-known/oauth-authorization-server',
  timeoutMs = 20_000,
  port: chosenPort,
}) {
  const port = chosenPort ?? (await freePort());
  const logFile = join(logDir, `${name}.log`);
  const log = openSync(logFile, 'a');
  // taskset execs node, so the child's pid is the server's.
  const nodeArgs = typeof args === 'function' ? args(port) : args;
  const [command, argv] =
    cpu === undefined ? [process.execPath, nodeArgs] : ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgs]];
  const child = spawn(command, argv, {
    cwd,
    env: { ...inheritedEnv(), NODE_ENV: 'production', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
  });
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    try {
      await fetch(origin + readyPath, { signal: AbortSignal.timeout(1000) });
      return { name, origin, port, pid: child.pid, child, logFile, cpuSeconds: () => cpuSeconds(child.pid) };
    } catch {
      await sleep(100);
    }
  }
  child.kill('SIGKILL');
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
  throw new Error(
    `${name} did not become ready (${exited ? `exited ${JSON.stringify(exited)}` : 'timeout'}):\n${tail}`,
  );
}

/** The caller's environment minus the server's own settings, so every run starts from the defaults. */
function inheritedEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(DCR_|DATABASE_)|^(ISSUER|LOG_LEVEL|PORT|HOST|NODE_OPTIONS)$/.test(name),
    ),
  );
}

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) may contain spaces; everything after the last ')' is space-separated from field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS;
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the child is gone. */
export async function stopServer(server, graceMs = 3000) {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/**
 * Diagnostic (BENCH_COUNT_FSYNC=1): counts a process' fsync + fdatasync calls with `perf stat`
 * tracepoints while a run lasts, to show how many requests share one durable commit. Returns
 * null when perf is missing or not permitted; stop() resolves to the count.
 */
export function countFsyncs(pid) {
  const perf = spawn(
    'perf',
    ['stat', '-x', ',', '-e', 'syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync', '-p', String(pid)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  perf.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => {
    perf.once('error', () => resolve(false));
    perf.once('exit', () => resolve(true));
  });
  return {
    async stop() {
      perf.kill('SIGINT');
      const timer = setTimeout(() => perf.kill('SIGKILL'), 3000);
      const ran = await exited;
      clearTimeout(timer);
      if (!ran) return null;
      let total = 0;
      let seen = false;
      for (const line of stderr.split('\n')) {
        const [value, , event] = line.split(',');
        if (event?.startsWith('syscalls:') && /^\d+$/.test(value)) {
          total += Number(value);
          seen = true;
        }
      }
      return seen ? total : null;
    },
  };
}

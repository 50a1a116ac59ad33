// Load generation against 127.0.0.1 only: wrk when it is installed (one thread, so the load
// generator keeps to one of the two cores), otherwise autocannon. Every run is bounded in time.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPORT_LUA = readFileSync(fileURLToPath(new URL('./wrk/report.lua', import.meta.url)), 'utf8');

export function findWrk() {
  for (const candidate of [process.env.WRK, '/usr/bin/wrk', '/usr/local/bin/wrk'].filter(Boolean)) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore', timeout: 5000 });
      return candidate;
    } catch (error) {
      // wrk --version exits 1 after printing its banner; only a missing binary is fatal.
      if (error.code !== 'ENOENT' && error.status !== undefined) return candidate;
    }
  }
  return null;
}

/** A Lua long string that cannot be closed by its content. */
function luaString(value) {
  let level = '';
  while (value.includes(`]${level}]`)) level += '=';
  return `[${level}[${value}]${level}]`;
}

function requestScript({ method, headers, body }) {
  const lines = [`wrk.method = ${luaString(method)}`];
  for (const [name, value] of Object.entries(headers ?? {}))
    lines.push(`wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`);
  if (body !== undefined) lines.push(`wrk.body = ${luaString(body)}`);
  return `${lines.join('\n')}\n${REPORT_LUA}`;
}

/**
 * One load run. Returns { requests, rps, p50Ms, p99Ms, non2xx, errors, seconds }.
 * `request` is { url, method, headers, body }; the same request is sent over and over. With `cpu`,
 * wrk is pinned to that CPU (autocannon runs in this process and is not pinned).
 */
export async function runLoad(tool, request, { connections, seconds, cpu }) {
  const url = new URL(request.url);
  if (url.hostname !== '127.0.0.1') throw new Error(`load goes to 127.0.0.1 only, not ${url.hostname}`);
  return tool === 'autocannon'
    ? runAutocannon(request, connections, seconds)
    : runWrk(tool, request, connections, seconds, cpu);
}

async function runWrk(wrk, request, connections, seconds, cpu) {
  const dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-wrk-'));
  const script = join(dir, 'request.lua');
  writeFileSync(script, requestScript(request));
  try {
    const args = [
      '-t1',
      `-c${connections}`,
      `-d${seconds}s`,
      '--timeout',
      '5s',
      '--latency',
      '-s',
      script,
      request.url,
    ];
    const [command, argv] = cpu === undefined ? [wrk, args] : ['taskset', ['-c', String(cpu), wrk, ...args]];
    const stdout = await new Promise((resolve, reject) => {
      execFile(
        command,
        argv,
        { timeout: (seconds + 15) * 1000, killSignal: 'SIGKILL', maxBuffer: 1 << 20 },
        (error, out, err) => {
          if (error) reject(new Error(`wrk failed: ${error.message}\n${err}`));
          else resolve(out);
        },
      );
    });
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_RESULT '));
    if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
    const r = JSON.parse(line.slice('WRK_RESULT '.length));
    const elapsed = r.duration_us / 1e6;
    return {
      requests: r.requests,
      rps: r.requests / elapsed,
      p50Ms: r.latency_us.p50 / 1000,
      p99Ms: r.latency_us.p99 / 1000,
      non2xx: r.errors.status,
      errors: r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout,
      seconds: elapsed,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runAutocannon(request, connections, seconds) {
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({
    url: request.url,
    method: request.method,
    headers: request.headers,
    body: request.body,
    connections,
    duration: seconds,
    timeout: 5,
  });
  return {
    requests: result.requests.total,
    rps: result.requests.total / (result.duration || seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds: result.duration || seconds,
  };
}

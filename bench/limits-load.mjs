// Load for the abuse-control benchmark (bench/limits.mjs): wrk runs whose requests come from many
// client addresses, or from one, as the server sees them through X-Forwarded-For from a trusted
// proxy (DCR_TRUST_PROXY=127.0.0.1), and a fixed-rate sender whose latencies are its own.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPORT_LUA = readFileSync(fileURLToPath(new URL('./wrk/report.lua', import.meta.url)), 'utf8');

/** The address of request `n` from a run whose addresses start at `offset`: 10.0.0.0/8 has 16 M. */
export function addressOf(n) {
  const value = n % 0xffffff;
  return `10.${(value >> 16) & 255}.${(value >> 8) & 255}.${value & 255}`;
}

/**
 * The wrk script: each request gets the next address after `offset` (`from: 'many'`), or always
 * `from` itself (one address). Lua strings are passed as JSON strings, which Lua reads alike for
 * the ASCII these bodies hold.
 */
function script({ method, headers, body }, from, offset) {
  const lines = [`wrk.method = ${JSON.stringify(method)}`];
  for (const [name, value] of Object.entries(headers))
    lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  lines.push(`wrk.body = ${JSON.stringify(body)}`);
  if (from === 'many') {
    lines.push(
      `local n = ${offset}`,
      'request = function()',
      '  n = n + 1',
      '  local v = n % 16777215',
      '  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(v / 65536) % 256, math.floor(v / 256) % 256, v % 256)',
      '  return wrk.format()',
      'end',
    );
  } else {
    lines.push(`wrk.headers["X-Forwarded-For"] = ${JSON.stringify(from)}`);
  }
  return `${lines.join('\n')}\n${REPORT_LUA}`;
}

/** One wrk run; resolves { requests, rps, p99Ms, non2xx, errors }. */
export async function wrkRun(wrk, url, request, { from, offset = 0, connections, seconds }) {
  const dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-limits-'));
  const file = join(dir, 'request.lua');
  writeFileSync(file, script(request, from, offset));
  try {
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', '-s', file, url];
    const stdout = await new Promise((resolve, reject) => {
      execFile(wrk, args, { timeout: (seconds + 15) * 1000, killSignal: 'SIGKILL' }, (error, out, err) =>
        error ? reject(new Error(`wrk failed: ${error.message}\n${err}`)) : resolve(out),
      );
    });
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_RESULT '));
    if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
    const r = JSON.parse(line.slice('WRK_RESULT '.length));
    return {
      requests: r.requests,
      rps: r.requests / (r.duration_us / 1e6),
      p99Ms: r.latency_us.p99 / 1000,
      non2xx: r.errors.status,
      errors: r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Sends `rate` requests a second for `seconds`, each from the next address, whatever the answers
 * take (open loop: a slow server does not slow the sender, so queueing shows in the latencies).
 * Resolves { sent, statuses, p50Ms, p99Ms }.
 */
export async function fixedRate(url, request, { rate, seconds, offset }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL(url);
  const latencies = [];
  const statuses = {};
  const pending = [];
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sentAt = performance.now();
    const headers = {
      ...request.headers,
      'X-Forwarded-For': addressOf(offset + n),
      'content-length': Buffer.byteLength(request.body),
    };
    n += 1;
    pending.push(
      new Promise((resolve) => {
        const req = httpRequest(
          {
            agent,
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            method: request.method,
            headers,
            timeout: 10_000,
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              latencies.push(performance.now() - sentAt);
              statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
              resolve();
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => {
          statuses.error = (statuses.error ?? 0) + 1;
          resolve();
        });
        req.end(request.body);
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? null;
  return { sent: n, statuses, p50Ms: at(0.5), p99Ms: at(0.99) };
}

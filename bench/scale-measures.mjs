// What bench/scale.mjs measures on a loaded store: the requests it sends, and the lookups and
// memory it measures in process.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { clientIdOf, tokenOf } from './scale-load.mjs';
import { mcpClientMetadata } from './scenarios.mjs';

const REPORT_LUA = readFileSync(fileURLToPath(new URL('./wrk/report.lua', import.meta.url)), 'utf8');
/** Clients whose configuration the RFC 7592 reads go to: drawn across the whole table. */
const READ_SAMPLE = 2000;

/** An MCP client without software_id (a shared software_id would share one rate-limit bucket). */
export function registrationRequest() {
  const { software_id: _id, software_version: _version, ...metadata } = mcpClientMetadata('client_secret_post');
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(metadata),
  };
}

/** Distinct random row numbers below `size` (all of them when size <= count). */
function sampleRows(size, count) {
  if (size <= count) return Array.from({ length: size }, (_, i) => i);
  const rows = new Set();
  while (rows.size < count) rows.add(Math.floor(Math.random() * size));
  return [...rows];
}

/**
 * RFC 7592 §2.1 reads (GET registration_client_uri with the registration access token), each for
 * a client drawn at random from READ_SAMPLE spread over the table. One wrk run; resolves like wrkRun.
 */
export async function readRequest(wrk, origin, size, { connections, seconds }) {
  const rows = sampleRows(size, READ_SAMPLE);
  const lua = [
    'local paths = {',
    ...rows.map((i) => `  ${JSON.stringify(`/register/${clientIdOf(i)}`)},`),
    '}',
    'local tokens = {',
    ...rows.map((i) => `  ${JSON.stringify(`Bearer ${tokenOf(i)}`)},`),
    '}',
    'math.randomseed(os.time())',
    'request = function()',
    '  local n = math.random(#paths)',
    '  return wrk.format("GET", paths[n], { ["Authorization"] = tokens[n], ["Accept"] = "application/json" })',
    'end',
    REPORT_LUA,
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-scale-'));
  const file = join(dir, 'read.lua');
  writeFileSync(file, lua);
  try {
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', '-s', file, `${origin}/`];
    const stdout = await new Promise((resolve, reject) => {
      execFile(
        wrk,
        args,
        { timeout: (seconds + 15) * 1000, killSignal: 'SIGKILL', maxBuffer: 1 << 20 },
        (error, out, err) => (error ? reject(new Error(`wrk failed: ${error.message}\n${err}`)) : resolve(out)),
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

/** Random client ids of a store of `size`, drawn once so that hashing them is not what is timed. */
const idsBySize = new Map();
function randomIds(size) {
  let ids = idsBySize.get(size);
  if (!ids) {
    ids = Array.from({ length: 100_000 }, () => clientIdOf(Math.floor(Math.random() * size)));
    idsBySize.set(size, ids);
  }
  return ids;
}

/**
 * findClient (the token endpoint's client lookup) for random ids across the table, `concurrency`
 * at a time, for `seconds`. Resolves { rps, p99Ms: null, errors } (errors: ids not found).
 */
export async function lookupRate(store, size, { seconds, concurrency }) {
  const ids = randomIds(size);
  let next = Math.floor(Math.random() * ids.length);
  let done = 0;
  let missing = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const record = await store.findClient(ids[next++ % ids.length]);
      if (record === null) missing++;
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rps: done / ((performance.now() - started) / 1000), p99Ms: null, errors: missing };
}

/** The process' heap (after a full GC) and RSS after each count of random lookups among `size`. */
export async function memoryAfterLookups(store, size, checkpoints) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const lines = [];
  let done = 0;
  for (const target of checkpoints) {
    while (done < target) {
      await store.findClient(clientIdOf(Math.floor(Math.random() * size)));
      done++;
    }
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    lines.push({ lookups: done, heapMiB: heapUsed / 2 ** 20, rssMiB: rss / 2 ** 20 });
  }
  return lines;
}

// The load generator for flows wrk cannot drive: a closed loop of N workers over one keep-alive
// http.Agent, each sending its next request only after the previous answer. It runs as a child
// process (forked by bench/token-flows.mjs and pinned to its own CPU), takes one job per IPC
// message and answers with the figures. The baselines are driven by the same loop, so a ratio
// never compares two different generators.
//
// Job modes:
//   static   the same request over and over (registration, client_credentials, introspection,
//            a protected MCP endpoint, /authorize with a session cookie)
//   refresh  one refresh-token chain per worker (RFC 6749 §6 with rotation, RFC 9700 §4.14.2):
//            each 200's refresh_token is the chain's next request; a chain whose request fails
//            is dead (its old token is already rotated out) and is reported as such
//   codes    each worker takes the next pre-minted authorization code; the run ends early when
//            the codes run out
//   bearers  each worker takes the next pre-minted access token (first-seen tokens)
import { Agent, request as httpRequest } from 'node:http';

/** One HTTP exchange; resolves { status, body } (the body is kept to report failures and read tokens). */
function send(agent, origin, { method, path, headers, body }) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, origin);
    const req = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out after 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

function form(params) {
  return new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString();
}

/** The next request of worker `i`, and what to do with its answer; null when the worker is done. */
function planner(job) {
  if (job.mode === 'static') return () => ({ request: job.request });
  if (job.mode === 'refresh') {
    return (i) => {
      const chain = job.chains[i];
      if (!chain || chain.dead) return null;
      return {
        request: {
          method: 'POST',
          path: job.tokenPath,
          headers: FORM,
          body: form({
            grant_type: 'refresh_token',
            refresh_token: chain.refreshToken,
            client_id: chain.clientId,
            resource: chain.resource,
          }),
        },
        settle(status, body) {
          const next = status === 200 ? JSON.parse(body).refresh_token : undefined;
          if (typeof next === 'string') chain.refreshToken = next;
          else chain.dead = `${status} ${body.slice(0, 200)}`;
        },
      };
    };
  }
  if (job.mode === 'codes') {
    let taken = 0;
    return () => {
      const grant = job.codes[taken++];
      if (!grant) return null;
      return {
        request: {
          method: 'POST',
          path: job.tokenPath,
          headers: FORM,
          body: form({
            grant_type: 'authorization_code',
            code: grant.code,
            code_verifier: grant.verifier,
            redirect_uri: grant.redirectUri,
            client_id: grant.clientId,
            resource: grant.resource,
          }),
        },
      };
    };
  }
  if (job.mode === 'bearers') {
    let taken = 0;
    return () => {
      const token = job.bearers[taken++];
      if (token === undefined) return null;
      return {
        request: { ...job.request, headers: { ...job.request.headers, authorization: `Bearer ${token}` } },
      };
    };
  }
  throw new Error(`unknown mode ${job.mode}`);
}

const percentile = (sorted, p) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * Runs one job: `connections` workers for `seconds` (or until the codes/tokens run out).
 * Returns { requests, ok, failed, statuses, seconds, p50Ms, p90Ms, p99Ms, firstFailure, chains, exhausted }.
 */
export async function runClosedLoop(job) {
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections, maxFreeSockets: job.connections });
  const next = planner(job);
  const latencies = [];
  const statuses = {};
  let ok = 0;
  let failed = 0;
  let firstFailure = null;
  let exhausted = false;
  const started = performance.now();
  const deadline = started + job.seconds * 1000;

  async function worker(i) {
    while (performance.now() < deadline) {
      const step = next(i);
      if (!step) {
        exhausted = true;
        return;
      }
      const t0 = performance.now();
      let status = 0;
      let body = '';
      try {
        ({ status, body } = await send(agent, job.origin, step.request));
      } catch (error) {
        body = String(error.message);
      }
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === job.expectStatus) ok++;
      else {
        failed++;
        firstFailure ??= `${status || 'network error'}: ${body.slice(0, 300)}`;
      }
      step.settle?.(status, body);
    }
  }

  await Promise.all(Array.from({ length: job.connections }, (_, i) => worker(i)));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    ok,
    failed,
    statuses,
    seconds,
    rps: ok / seconds,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    firstFailure,
    exhausted,
    chains: job.chains,
  };
}

// As a child process: one job per message, answered in order.
if (process.send) {
  let queue = Promise.resolve();
  process.on('message', (message) => {
    queue = queue.then(async () => {
      try {
        process.send({ id: message.id, result: await runClosedLoop(message.job) });
      } catch (error) {
        process.send({ id: message.id, error: String(error?.stack ?? error) });
      }
    });
  });
  process.on('disconnect', () => process.exit(0));
}

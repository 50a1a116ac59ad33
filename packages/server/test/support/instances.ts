import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DEMO_PASSWORD, DEMO_USERNAME } from './reference-server.js';

/**
 * Several reference-server PROCESSES behind one address, as a load balancer without sticky
 * routing would put them: each is `oauth-dcr-server serve` (through tsx, resolving oauth-dcr to
 * its sources through the `oauth-dcr-source` condition that scripts/run-tests.mjs puts in
 * NODE_OPTIONS), all with the same ISSUER, on one PostgreSQL schema (unique per cluster, dropped
 * afterwards) and one Redis. Processes, not servers in this process: anything a server kept in
 * its own memory (sessions, throttles, keys) must then really fail to be seen by the others.
 */

// tsx by absolute URL, as in e2e/cli.test.ts.
export const SERVER_CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'packages/server/src/cli.ts')];

/** One shared secret for every instance: the signing keys sealed by one are opened by the others. */
const SIGNING_KEY_SECRET = 'several-instances-signing-key-secret';

/** A free TCP port on 127.0.0.1 (closed again; the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A random source address on the loopback interface (Linux answers all of 127.0.0.0/8). */
export function randomLoopbackAddress(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

export interface Instance {
  name: string;
  /** The instance's own address (http://127.0.0.1:PORT): to reach it directly, past the proxy. */
  url: string;
  port: number;
  /** Resolves once the port accepts connections (the server binds before it opens storage). */
  bound: Promise<void>;
  /** Resolves once the server printed its ready line; rejects if it exits first. */
  ready: Promise<void>;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after 15 s); resolves the exit code. */
  stop(): Promise<number | null>;
}

/** Starts one `serve` process; `bound` and `ready` say how far it got. */
export async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, [...SERVER_CLI, 'serve'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DCR_DEMO_USER: `${DEMO_USERNAME}:${DEMO_PASSWORD}`,
      DCR_SIGNING_KEY_SECRET: SIGNING_KEY_SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const issuer = env.ISSUER;
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (output.includes(`oauth-dcr listening on ${issuer}`)) {
        child.stdout!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) =>
      reject(new Error(`instance ${name} exited with ${code} before it was ready:\n${output}`)),
    );
  });
  ready.catch(() => undefined);
  const bound = waitForPort(port, ready);
  bound.catch(() => undefined);
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    bound,
    ready,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
}

/** Resolves once `port` accepts a connection; rejects when `giveUp` rejects first. */
async function waitForPort(port: number, giveUp: Promise<void>): Promise<void> {
  let failed: unknown;
  giveUp.catch((error: unknown) => (failed = error));
  for (;;) {
    if (failed) throw failed;
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Children still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ServedRequest {
  instance: string;
  method: string;
  path: string;
  /** The instance's status, or 502 when the proxy could not reach it. */
  status: number;
  /** The proxy's own error, when the instance could not be reached or hung up. */
  error?: string;
}

/**
 * A small HTTP reverse proxy: the ONE address clients see (the issuer). Each request, not each
 * connection, goes to the next instance in turn (no sticky routing, not even by keep-alive), or
 * to the pinned one, so that a test can say which instance serves each step. It is transparent
 * as to the source address: its connection to the instance is bound to the client's own
 * loopback address (like a layer-4 balancer that preserves client IPs), so per-address limits
 * see the real client without trusting any header.
 */
export class RoutingProxy {
  readonly #server: Server;
  readonly #upstreams = new Map<string, URL>();
  readonly #agents = new Map<string, Agent>();
  #turn = 0;
  #pinned: string | undefined;
  /** What the test's own clients (connecting from 127.0.0.1) look like to the instances. */
  readonly clientAddress: string;
  /** Every request, in the order it was answered. */
  readonly served: ServedRequest[] = [];
  /** Requests sent to each instance so far, answered or not. */
  readonly routed = new Map<string, number>();
  url = '';

  private constructor(clientAddress: string) {
    this.clientAddress = clientAddress;
    this.#server = createServer((req, res) => this.#forward(req, res));
  }

  /**
   * `clientAddress` stands in for 127.0.0.1, which every test on this machine shares: counters
   * kept in a shared Redis are keyed by address, and other tests' requests must not spend ours.
   * A client that connects from any other loopback address keeps it.
   */
  static async start(clientAddress = randomLoopbackAddress()): Promise<RoutingProxy> {
    const proxy = new RoutingProxy(clientAddress);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.url = `http://127.0.0.1:${(proxy.#server.address() as AddressInfo).port}`;
    return proxy;
  }

  /** Puts an instance into the rotation. */
  add(instance: Pick<Instance, 'name' | 'url'>): void {
    this.#upstreams.set(instance.name, new URL(instance.url));
  }

  /** Sends every request to `name` until unpinned (undefined: round robin again). */
  pin(name: string | undefined): void {
    if (name !== undefined && !this.#upstreams.has(name)) throw new Error(`no instance ${name} behind the proxy`);
    this.#pinned = name;
  }

  /** Runs `step` with every request pinned to `name`. */
  async on<T>(name: string, step: () => Promise<T>): Promise<T> {
    this.pin(name);
    try {
      return await step();
    } finally {
      this.pin(undefined);
    }
  }

  async close(): Promise<void> {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #choose(): string {
    if (this.#pinned) return this.#pinned;
    const names = [...this.#upstreams.keys()];
    if (names.length === 0) throw new Error('no instance behind the proxy');
    return names[this.#turn++ % names.length]!;
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const name = this.#choose();
    const upstream = this.#upstreams.get(name)!;
    this.routed.set(name, (this.routed.get(name) ?? 0) + 1);
    const source = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const localAddress = source.startsWith('127.') && source !== '127.0.0.1' ? source : this.clientAddress;
    const path = req.url ?? '/';
    const record = (status: number, error?: string) =>
      this.served.push({
        instance: name,
        method: req.method ?? 'GET',
        path: path.split('?', 1)[0]!,
        status,
        ...(error ? { error } : {}),
      });
    const headers = { ...req.headers };
    // Hop-by-hop (RFC 9110 §7.6.1): the proxy's own connections are its business.
    delete headers.connection;
    delete headers['keep-alive'];
    const outgoing = request({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path,
      headers,
      localAddress,
      agent: this.#agent(name, localAddress),
    });
    outgoing.on('response', (incoming) => {
      record(incoming.statusCode ?? 0);
      const answer = { ...incoming.headers };
      delete answer.connection;
      delete answer['keep-alive'];
      res.writeHead(incoming.statusCode ?? 502, answer);
      incoming.pipe(res);
    });
    outgoing.on('error', (error) => {
      record(502, error.message);
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'server_error', error_description: `proxy: ${name}: ${error.message}` }));
      } else res.destroy();
    });
    req.pipe(outgoing);
  }

  /** Keep-alive connections per instance and source address (a socket is bound to one address). */
  #agent(name: string, localAddress: string): Agent {
    const key = `${name}|${localAddress}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 16 });
      this.#agents.set(key, agent);
    }
    return agent;
  }
}

export interface Cluster {
  proxy: RoutingProxy;
  /** The issuer every instance announces: the proxy's address. */
  issuer: string;
  instances: Map<string, Instance>;
  instance(name: string): Instance;
  /**
   * The user every instance knows (DCR_DEMO_USER): a name of this cluster's own, as login
   * throttles shared through Redis count per username.
   */
  user: { username: string; password: string };
  /** PostgreSQL URL and schema the instances share (to look at the tables). */
  database: { url: string; schema: string };
  /** The settings every instance gets (issuer, database, Redis, demo user, extra env). */
  env: Record<string, string>;
  /** Starts another instance on the same database, Redis and issuer; not yet in the proxy's rotation. */
  startInstance(name: string): Promise<Instance>;
  /** Stops every instance and the proxy, and drops the schema. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  postgresUrl: string;
  redisUrl?: string;
  /** Names of the instances to start at once (concurrently: they race for the migrations). */
  names: string[];
  /** Extra settings for every instance. */
  env?: Record<string, string>;
}

/**
 * Starts the proxy, then the instances together on a fresh schema, each put into the rotation
 * once ready. On a failed start, whatever started is stopped again.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const proxy = await RoutingProxy.start();
  const schema = `several_${randomBytes(5).toString('hex')}`;
  // Other tests share this Redis: this cluster's counters live under a prefix of its own.
  const redisKeyPrefix = `${schema}:`;
  const instances = new Map<string, Instance>();
  const user = { username: `${DEMO_USERNAME}-${randomBytes(4).toString('hex')}`, password: DEMO_PASSWORD };
  const env: Record<string, string> = {
    ISSUER: proxy.url,
    DCR_DEMO_USER: `${user.username}:${user.password}`,
    DCR_STORE: 'postgres',
    DATABASE_URL: options.postgresUrl,
    DATABASE_SCHEMA: schema,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl, DCR_REDIS_KEY_PREFIX: redisKeyPrefix } : {}),
    ...options.env,
  };
  const launch = async (name: string) => {
    const instance = await startInstance(name, env);
    instances.set(name, instance);
    return instance;
  };
  const stop = async () => {
    await Promise.all([...instances.values()].map((instance) => instance.stop()));
    await proxy.close();
    await dropSchema(options.postgresUrl, schema);
    if (options.redisUrl) await deleteRedisKeys(options.redisUrl, redisKeyPrefix);
  };
  try {
    const started = await Promise.all(options.names.map(launch));
    await Promise.all(started.map((instance) => instance.ready));
    for (const instance of started) proxy.add(instance);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    proxy,
    issuer: proxy.url,
    instances,
    instance(name) {
      const found = instances.get(name);
      if (!found) throw new Error(`no instance ${name}`);
      return found;
    },
    user,
    env,
    database: { url: options.postgresUrl, schema },
    startInstance: launch,
    stop,
  };
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/** Deletes the keys under `prefix`, and only those. */
async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Rows of a query on the cluster's schema (for checks on what the instances wrote). */
export async function queryCluster<T extends Record<string, unknown>>(
  cluster: Pick<Cluster, 'database'>,
  text: string,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: cluster.database.url });
  await client.connect();
  try {
    await client.query(`set search_path to "${cluster.database.schema}"`);
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

export interface PlainAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request sent from a chosen loopback source address (the socket is bound to it), so
 * that the proxy, and behind it the instance, sees that address as the client's.
 */
export function requestFrom(
  localAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<PlainAnswer> {
  const body = options.body ?? '';
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: options.method ?? 'GET',
        localAddress,
        agent: false,
        headers: { ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...options.headers },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The advisory lock every instance takes to migrate the reference server's tables (storage/reference-schema.ts). */
export const REFERENCE_MIGRATION_LOCK = 'oauth-dcr reference tables';

export interface HeldLock {
  /** How many other sessions wait for this lock now. */
  waiters(): Promise<number>;
  release(): Promise<void>;
}

/**
 * Takes a PostgreSQL advisory lock (as the servers do: pg_advisory_lock(hashtextextended(key, 0)))
 * on a connection of its own, and holds it until released.
 */
export async function holdAdvisoryLock(url: string, key: string): Promise<HeldLock> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key]);
  } catch (error) {
    await client.end();
    throw error;
  }
  let released: Promise<void> | undefined;
  return {
    async waiters() {
      const { rows } = await client.query<{ waiting: number }>(
        `select count(*)::int as waiting
           from pg_locks held join pg_locks waiting
             on waiting.locktype = 'advisory' and waiting.classid = held.classid
            and waiting.objid = held.objid and waiting.objsubid = held.objsubid
          where held.locktype = 'advisory' and held.pid = pg_backend_pid() and held.granted
            and not waiting.granted`,
      );
      return rows[0]!.waiting;
    },
    release: () =>
      (released ??= (async () => {
        try {
          await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]);
        } finally {
          await client.end();
        }
      })()),
  };
}

/** Polls `probe` until it is true; generous, since the machine is small and shared. */
export async function waitUntil(
  what: string,
  probe: () => boolean | Promise<boolean>,
  limitMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

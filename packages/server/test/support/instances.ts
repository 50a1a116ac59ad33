import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DEMO_PASSWORD, DEMO_USERNAME } from './reference-server.js';
import { RoutingProxy } from './routing-proxy.js';

export {
  randomLoopbackAddress,
  requestFrom,
  RoutingProxy,
  type PlainAnswer,
  type ServedRequest,
} from './routing-proxy.js';
export { holdAdvisoryLock, REFERENCE_MIGRATION_LOCK, waitUntil, type HeldLock } from './advisory-locks.js';

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

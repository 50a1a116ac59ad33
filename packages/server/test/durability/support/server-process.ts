import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, SERVER_CLI } from '../../support/instances.js';

/**
 * The reference server as a real `oauth-dcr-server serve` process on data that outlives it: the
 * durability and secrets-at-rest suites kill it with SIGKILL (no shutdown hook runs, nothing is
 * flushed) and start it again on the same SQLite file or PostgreSQL schema, at the same address
 * and issuer, so that every registration_client_uri handed out before the crash still points at it.
 */

/** Where a server keeps its data, and the settings that point a process at it. */
export interface ServerData {
  backend: 'sqlite' | 'postgres';
  env: Record<string, string>;
  /** SQLite: the database file (its -wal and -shm sit beside it). */
  sqlitePath?: string;
  /** PostgreSQL: the connection URL and the schema that holds every table. */
  postgres?: { url: string; schema: string };
  /** Removes the files or drops the schema. */
  remove(): Promise<void>;
}

export async function sqliteData(): Promise<ServerData> {
  const dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-durability-'));
  const sqlitePath = join(dir, 'server.db');
  return {
    backend: 'sqlite',
    env: { DCR_STORE: 'sqlite', DATABASE_PATH: sqlitePath },
    sqlitePath,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function postgresData(url: string): Promise<ServerData> {
  const schema = `durability_${randomBytes(5).toString('hex')}`;
  return {
    backend: 'postgres',
    env: { DCR_STORE: 'postgres', DATABASE_URL: url, DATABASE_SCHEMA: schema },
    postgres: { url, schema },
    async remove() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface ServerProcess {
  url: string;
  /** Everything every life of the process printed on stdout and stderr (pino JSON lines included). */
  output(): string;
  /** Starts a process (again) on the same data and address; resolves once it printed its ready line. */
  start(): Promise<void>;
  /** SIGKILL: the process gets no chance to finish anything. Resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM, as an operator stops it; resolves the exit code. */
  stop(): Promise<number | null>;
}

/** A server on `data`, at a port chosen once and kept across restarts. Not started yet. */
export async function serverProcess(data: ServerData, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const settings = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: url,
    LOG_LEVEL: 'info',
    // The signing keys are sealed at rest with this secret: the next life must open them.
    DCR_SIGNING_KEY_SECRET: `durability-${randomBytes(16).toString('hex')}`,
    DCR_RATE_LIMITS: 'off',
    ...data.env,
    ...env,
  };
  const start = async () => {
    const started = spawn(process.execPath, [...SERVER_CLI, 'serve'], {
      env: settings,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    running.add(started);
    const lifeStart = output.length;
    started.stdout!.on('data', (chunk) => (output += chunk));
    started.stderr!.on('data', (chunk) => (output += chunk));
    exited = new Promise((resolve) =>
      started.once('exit', () => {
        running.delete(started);
        resolve();
      }),
    );
    const ready = `oauth-dcr listening on ${url}`;
    for (const deadline = Date.now() + 15_000; !output.slice(lifeStart).includes(ready); ) {
      if (started.exitCode !== null || started.signalCode !== null || Date.now() > deadline)
        throw new Error(`the server did not start:\n${output.slice(lifeStart)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    url,
    output: () => output,
    start,
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
      const stopping = child;
      stopping.kill('SIGTERM');
      const hard = setTimeout(() => stopping.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(hard);
      return stopping.exitCode;
    },
  };
}

/** Processes still running if the test process ends without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { requireService } from '../../../oauth-dcr/test/support/services.js';
import { registerClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * The idle-client reaper as the server runs it (`reapIdleClients`, what its DCR_REAP_INTERVAL
 * timer calls) and by hand (`oauth-dcr-server prune --idle [--dry-run]`); one instance at a time
 * on PostgreSQL (an advisory lock); and the refusals of bad limit and Redis settings at start.
 */
const CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'packages/server/src/cli.ts')];
const CLIENT = { redirect_uris: ['http://127.0.0.1:7000/callback'], token_endpoint_auth_method: 'none' };
/** Anonymous clients never used within an hour of registering are idle (the timer off: runs by hand). */
const REAP_FAST = { DCR_REAP_NEVER_USED: 'anonymous=1h', DCR_REAP_INTERVAL: '0' };

/**
 * Moves a client's registration two hours back, in the database itself (the SQL store's Kysely
 * handle), so that it is idle by REAP_FAST without waiting an hour.
 */
async function ageClient(server: TestServer, clientId: string): Promise<void> {
  const { db } = server.storage.clients as unknown as { db: Kysely<any> };
  const then = Math.floor(Date.now() / 1000) - 7200;
  const result = await db
    .updateTable('dcr_clients')
    .set({ created_at: then, client_id_issued_at: then })
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  assert.equal(Number(result.numUpdatedRows), 1);
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...CLI, ...args],
      { env: { ...process.env, LOG_LEVEL: 'warn', ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

describe('settings refused at start', () => {
  const bad = [
    ['REDIS_URL', 'nonsense'],
    ['DCR_LIMIT_REGISTER_PER_ADDRESS', 'junk'],
    ['DCR_LIMIT_FAILED_AUTH_PER_CLIENT', '10/forever'],
    ['DCR_RATE_LIMIT_ON_STORE_ERROR', 'maybe'],
    ['DCR_REAP_NEVER_USED', 'anonymous=60s'],
  ] as const;
  it(`${bad.map(([name]) => name).join(', ')}: each exits 2 with one line naming it`, async () => {
    // In parallel: each is a process start, and the refusals are independent.
    const outcomes = await Promise.all(
      bad.map(([name, value]) => cli(['serve'], { DCR_STORE: 'memory', PORT: '0', [name]: value })),
    );
    for (const [i, outcome] of outcomes.entries()) {
      const [name] = bad[i]!;
      const shown = `${name}: ${JSON.stringify(outcome)}`;
      assert.equal(outcome.code, 2, shown);
      const lines = outcome.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, shown);
      assert.match(lines[0]!, new RegExp(`^oauth-dcr-server: ${name}`), shown);
      assert.doesNotMatch(outcome.stderr, /\n\s+at /, shown);
    }
  });
});

describe('oauth-dcr-server prune --idle', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-reaper-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('lists with --dry-run, then deletes, the clients never used in time', async () => {
    const env = { ...REAP_FAST, DATABASE_PATH: join(dir, 'reap.db') };
    const server = await startTestServer({ env });
    const idle = await registerClient(server.url, CLIENT);
    await ageClient(server, idle.client_id);
    // startTestServer removes its own directory only: this database stays for the CLI.
    await server.stop();
    const dryRun = await cli(['prune', '--idle', '--dry-run'], env);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /anonymous: would delete 1/);
    assert.match(dryRun.stdout, new RegExp(idle.client_id));
    const run = await cli(['prune', '--idle'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /anonymous: deleted 1/);
  });
});

describe('the reaper inside the server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: REAP_FAST });
  });
  after(() => server?.stop());

  it('deletes a client never used in time and keeps one in use', async () => {
    const idle = await registerClient(server.url, CLIENT);
    await ageClient(server, idle.client_id);
    const fresh = await registerClient(server.url, CLIENT);
    await server.reapIdleClients();
    assert.equal(await server.storage.clients.findClient(idle.client_id), null);
    assert.ok(await server.storage.clients.findClient(fresh.client_id));
  });
});

const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);

describe('the reaper on PostgreSQL: one instance at a time', { skip: !postgresUrl }, () => {
  const schema = `reaper_test_${randomBytes(5).toString('hex')}`;
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      env: { ...REAP_FAST, DCR_STORE: 'postgres', DATABASE_URL: postgresUrl!, DATABASE_SCHEMA: schema },
    });
  });
  after(async () => {
    await server?.stop();
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  });

  it('skips its run while another session holds the reaper lock, and reaps once it is free', async () => {
    const idle = await registerClient(server.url, CLIENT);
    await ageClient(server, idle.client_id);
    const other = new pg.Client({ connectionString: postgresUrl });
    await other.connect();
    try {
      const key = `oauth-dcr idle reaper ${schema}`;
      const held = await other.query('select pg_try_advisory_lock(hashtextextended($1, 0)) as locked', [key]);
      assert.equal(held.rows[0].locked, true);
      await server.reapIdleClients();
      assert.ok(await server.storage.clients.findClient(idle.client_id), 'reaped despite the lock');
      await other.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      await server.reapIdleClients();
      assert.equal(await server.storage.clients.findClient(idle.client_id), null);
    } finally {
      await other.end();
    }
  });
});

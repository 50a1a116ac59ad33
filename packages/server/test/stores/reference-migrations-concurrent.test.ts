/**
 * Several instances starting at once on one fresh database all come up, and each `ref_`
 * migration is applied once: on SQLite under BEGIN IMMEDIATE (the file's write lock is held from
 * reading what is applied to recording it), on PostgreSQL under the advisory lock. SQLite's
 * instances are processes, as in production: in one process, a connection waiting for the lock
 * (better-sqlite3 waits synchronously) would block the event loop of the one holding it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { StorageConfig } from '../../src/config.js';
import { openStorage, type ServerStorage } from '../../src/storage/open-storage.js';
import { REFERENCE_MIGRATIONS } from '../../src/storage/reference-schema.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';

const INSTANCES = 3;

/** Opens INSTANCES storages at once; resolves the migration names each one applied. */
async function startTogether(config: StorageConfig): Promise<{ storages: ServerStorage[]; applied: string[][] }> {
  const applied: string[][] = Array.from({ length: INSTANCES }, () => []);
  const storages = await Promise.all(
    applied.map((names) => openStorage(config, { migrate: false, onMigrated: (list) => names.push(...list) })),
  );
  return { storages, applied };
}

const OPEN_STORAGE = fileURLToPath(new URL('../../src/storage/open-storage.ts', import.meta.url));

/** Opens the storage in a process of its own (tsx, library sources: NODE_OPTIONS is inherited). */
async function startProcess(path: string): Promise<string[]> {
  const script = `
    import { openStorage } from ${JSON.stringify(OPEN_STORAGE)};
    const applied = [];
    const storage = await openStorage({ kind: 'sqlite', path: ${JSON.stringify(path)} }, {
      migrate: false,
      onMigrated: (names) => applied.push(...names),
    });
    await storage.sessions.countSessions(0);
    await storage.close();
    process.stdout.write(JSON.stringify(applied));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    script,
  ]);
  return JSON.parse(stdout) as string[];
}

function checkOnce(applied: string[][]): void {
  for (const name of REFERENCE_MIGRATIONS) {
    const count = applied.filter((names) => names.includes(name)).length;
    assert.equal(count, 1, `${name} applied by exactly one instance`);
  }
}

describe('ref_* migrations when instances start together', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('SQLite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-migrate-together-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'together.db');
    const applied = await Promise.all(Array.from({ length: INSTANCES }, () => startProcess(path)));
    checkOnce(applied);
    const db = new BetterSqlite3(path, { readonly: true });
    try {
      const rows = db.prepare('select name from ref_migrations order by name').all() as Array<{ name: string }>;
      assert.deepEqual(
        rows.map((row) => row.name),
        [...REFERENCE_MIGRATIONS].sort(),
      );
    } finally {
      db.close();
    }
  });

  const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
  it('PostgreSQL', { skip: url ? false : 'DCR_TEST_POSTGRES_URL is not set' }, async () => {
    const schema = `ref_together_${randomBytes(5).toString('hex')}`;
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    });
    const { storages, applied } = await startTogether({ kind: 'postgres', url: url!, schema });
    try {
      checkOnce(applied);
      for (const storage of storages) assert.equal(await storage.sessions.countSessions(0), 0);
    } finally {
      for (const storage of storages) await storage.close();
    }
  });
});

/**
 * A database made by the server before its tables had migrations (users, codes and tokens with a
 * single `resource`, no ref_migrations) is brought up to date on open: each code and token keeps
 * its resource, now as a one-element list, and the new tables exist. Run on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { hashSecret } from 'oauth-dcr';
import type { StorageConfig } from '../../src/config.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { REFERENCE_MIGRATIONS } from '../../src/storage/reference-schema.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';

/** The tables as the server created them before migration 002. */
const OLD_TABLES = [
  `create table ref_authorization_codes (code_hash text primary key, grant_id text not null, client_id text not null,
    user_id text not null, redirect_uri text not null, redirect_uri_sent integer not null, scope text, resource text,
    code_challenge text, code_challenge_method text, expires_at bigint not null, created_at bigint not null, used_at bigint)`,
  `create table ref_tokens (token_hash text primary key, kind text not null, grant_id text not null,
    client_id text not null, user_id text, scope text, resource text, expires_at bigint not null,
    created_at bigint not null, revoked_at bigint)`,
  `create table ref_users (id text primary key, username text not null unique, password_hash text not null,
    created_at bigint not null)`,
];
const RESOURCE = 'https://old.example/mcp';
const CODE = hashSecret('old-code');
const TOKEN = hashSecret('old-token');
const later = Math.floor(Date.now() / 1000) + 3600;
const OLD_ROWS = [
  `insert into ref_authorization_codes values ('${CODE}', 'g', 'c', 'u', 'http://127.0.0.1/cb', 1, null, '${RESOURCE}', null, null, ${later}, 1, null)`,
  `insert into ref_tokens values ('${TOKEN}', 'refresh', 'g', 'c', 'u', null, '${RESOURCE}', ${later}, 1, null)`,
];

async function checkMigrated(config: StorageConfig): Promise<void> {
  let applied: string[] = [];
  const storage = await openStorage(config, { migrate: false, onMigrated: (names) => (applied = names) });
  try {
    for (const name of REFERENCE_MIGRATIONS) assert.ok(applied.includes(name), `${name} applied`);
    assert.deepEqual((await storage.tokens.findAuthorizationCode(CODE))?.resources, [RESOURCE]);
    assert.deepEqual((await storage.tokens.findToken(TOKEN))?.resources, [RESOURCE]);
    assert.equal(await storage.usedClientAssertions.useOnce('c jti', later), true);
    assert.deepEqual(await storage.signingKeys.listSigningKeys(), []);
  } finally {
    await storage.close();
  }
  const again = await openStorage(config, { migrate: false, onMigrated: (names) => (applied = names) });
  await again.close();
  assert.deepEqual(applied, [], 'nothing is applied twice');
}

describe('ref_* migrations from a database made before them', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('SQLite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-migrate-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'old.db');
    const db = new BetterSqlite3(path);
    for (const statement of [...OLD_TABLES, ...OLD_ROWS]) db.exec(statement);
    db.close();
    await checkMigrated({ kind: 'sqlite', path });
  });

  const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
  it('PostgreSQL', { skip: url ? false : 'DCR_TEST_POSTGRES_URL is not set' }, async () => {
    const schema = `ref_migrate_${randomBytes(5).toString('hex')}`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    cleanups.push(async () => {
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    });
    await client.query(`create schema "${schema}"`);
    await client.query(`set search_path to "${schema}"`);
    for (const statement of [...OLD_TABLES, ...OLD_ROWS]) await client.query(statement);
    await checkMigrated({ kind: 'postgres', url: url!, schema });
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { runAdminCommand, type Output } from '../../src/admin/commands.js';
import { createRegistration } from '../../src/index.js';
import { sqliteStore } from '../../src/store/sqlite.js';
import { requireService } from '../support/services.js';

/**
 * `oauth-dcr`, the library's admin command line, started as a process from its sources (through
 * tsx, so no build is needed). It works on the library's store alone: it creates oauth-dcr's
 * dcr_* tables (migrate) and nothing else, and only migrate may create a database at all. A bad
 * setting ends in one line naming it, exit code 2, and nothing on disk.
 */
// tsx by absolute URL: some cases run the CLI from an empty directory, where `--import tsx` would
// not resolve.
const CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'packages/oauth-dcr/src/cli.ts')];

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end, from `cwd` (default: the repository root), and reports how it ended. */
function cli(args: string[], env: Record<string, string>, cwd?: string): Promise<Finished> {
  // The settings are the test's alone, not whatever the environment running the tests holds.
  const base = { ...process.env };
  for (const name of ['DATABASE_PATH', 'DATABASE_URL', 'DATABASE_SCHEMA']) delete base[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...CLI, ...args],
      { ...(cwd ? { cwd } : {}), env: { ...base, ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI and expects it to succeed; resolves its standard output. */
async function cliOk(args: string[], env: Record<string, string>): Promise<string> {
  const outcome = await cli(args, env);
  assert.equal(outcome.code, 0, JSON.stringify(outcome));
  return outcome.stdout;
}

/** The refusal every bad setting must end in: exit 2, one line naming the setting, no stack. */
function assertRefused(outcome: Finished, setting: RegExp): void {
  const shown = JSON.stringify(outcome);
  assert.equal(outcome.code, 2, shown);
  assert.equal(outcome.stdout, '', shown);
  const lines = outcome.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${outcome.stderr}`);
  assert.match(lines[0]!, setting);
  assert.doesNotMatch(outcome.stderr, /\n\s+at /, 'no stack trace');
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-admin-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function emptyDirectory(name: string): Promise<string> {
  const path = join(dir, `${name}-${randomBytes(3).toString('hex')}`);
  await mkdir(path);
  return path;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function sqliteTables(path: string): string[] {
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name",
      )
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

describe('oauth-dcr admin commands on SQLite', () => {
  it('migrate, then initial access tokens and the client list, against one database', async () => {
    const path = join(dir, 'admin.db');
    const env = { DATABASE_PATH: path };
    assert.match(await cliOk(['migrate'], env), /^applied migrations to SQLite .*admin\.db: 0001_initial/);
    assert.match(await cliOk(['migrate'], env), /admin\.db is up to date/);
    assert.equal(await cliOk(['iat', 'list'], env), 'no initial access tokens\n');
    assert.equal(await cliOk(['clients', 'list'], env), 'no clients registered\n');

    const created = await cliOk(['iat', 'create', '--uses', '1', '--expires', '1d', '--label', 'ci runner'], env);
    const token = /shown once, keep it secret\):\n\s+(\S+)/.exec(created)?.[1];
    const id = /id: (\S+)/.exec(created)?.[1];
    assert.ok(token && id, created);
    assert.match(created, /uses: 1 {2}expires: \d{4}-\d\d-\d\dT\S+Z {2}label: ci runner/);

    // The token admits one registration, through the library alone.
    const store = sqliteStore(path);
    try {
      const registration = createRegistration({
        store,
        issuer: 'https://as.example.com',
        openRegistration: false,
        onError: () => {},
      });
      const register = (authorization: string) =>
        registration(
          new Request('https://as.example.com/register', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization },
            body: JSON.stringify({ client_name: 'Token-gated', redirect_uris: ['https://app.example/cb'] }),
          }),
        );
      assert.equal((await register(`Bearer ${token}`)).status, 201);
      assert.equal((await register(`Bearer ${token}`)).status, 401, 'the token had one use');
    } finally {
      await store.close();
    }

    assert.match(await cliOk(['iat', 'list'], env), new RegExp(`${id}\\s+ci runner\\s+0\\s+\\S+\\s+used up`));
    assert.match(await cliOk(['clients', 'list'], env), /Token-gated\s+initial_access_token/);
    assert.match(await cliOk(['iat', 'revoke', id!], env), new RegExp(`revoked ${id}`));
    assert.match(await cliOk(['iat', 'list'], env), new RegExp(`${id}\\s+ci runner\\s+0\\s+\\S+\\s+revoked`));
    // A second revoke has nothing live to revoke: a usage error, not a crash.
    assertRefused(
      await cli(['iat', 'revoke', id!], env),
      new RegExp(`^oauth-dcr: no live initial access token with id ${id}$`),
    );
  });

  it("migrate and iat create on a fresh file create oauth-dcr's dcr_* tables and no ref_* table", async () => {
    const cwd = await emptyDirectory('fresh');
    const path = join(cwd, 'own-app.db');
    assert.equal((await cli(['migrate'], { DATABASE_PATH: path })).code, 0);
    const afterMigrate = sqliteTables(path);
    assert.ok(afterMigrate.includes('dcr_clients'), afterMigrate.join(', '));
    assert.deepEqual(
      afterMigrate.filter((name) => !name.startsWith('dcr_')),
      [],
    );

    assert.equal((await cli(['iat', 'create'], { DATABASE_PATH: path })).code, 0);
    assert.equal((await cli(['clients', 'list'], { DATABASE_PATH: path })).code, 0);
    assert.deepEqual(sqliteTables(path), afterMigrate, 'admin commands add no table');
  });

  it('migrate leaves the tables of the database it is added to alone', async () => {
    const path = join(await emptyDirectory('existing'), 'app.db');
    const db = new BetterSqlite3(path);
    db.exec("create table users (id integer primary key, name text); insert into users (name) values ('ada')");
    db.close();
    assert.equal((await cli(['migrate'], { DATABASE_PATH: path })).code, 0);
    const tables = sqliteTables(path);
    assert.deepEqual(
      tables.filter((name) => !name.startsWith('dcr_')),
      ['users'],
    );
    assert.equal((await cli(['clients', 'list'], { DATABASE_PATH: path })).stdout, 'no clients registered\n');
  });

  it('takes the same settings as flags, and uses ./oauth-dcr.db by default', async () => {
    const cwd = await emptyDirectory('default');
    assert.equal((await cli(['migrate'], {}, cwd)).code, 0);
    assert.deepEqual(await readdir(cwd).then((names) => names.filter((name) => !/-(wal|shm|journal)$/.test(name))), [
      'oauth-dcr.db',
    ]);
    const flagged = join(cwd, 'flagged.db');
    assert.equal((await cli(['migrate', '--database-path', flagged], {}, cwd)).code, 0);
    assert.ok(existsSync(flagged));
    assert.equal(
      (await cli(['iat', 'list', `--database-path=${flagged}`], { DATABASE_PATH: join(cwd, 'not-this.db') }, cwd))
        .stdout,
      'no initial access tokens\n',
    );
  });
});

describe('admin commands other than migrate never create a database', () => {
  for (const command of [
    ['clients', 'list'],
    ['iat', 'list'],
    ['iat', 'create'],
    ['iat', 'revoke', 'some-id'],
  ]) {
    it(`${command.join(' ')} refuses a DATABASE_PATH that does not exist`, async () => {
      const cwd = await emptyDirectory('missing');
      const outcome = await cli(command, { DATABASE_PATH: join(cwd, 'mistyped.db') }, cwd);
      assertRefused(
        outcome,
        /^oauth-dcr: DATABASE_PATH: .*mistyped\.db does not exist \(this command never creates a database; check the path, or create it with oauth-dcr migrate\)$/,
      );
      assert.deepEqual(await readdir(cwd), []);
    });
  }

  it('the default ./oauth-dcr.db too', async () => {
    const cwd = await emptyDirectory('missing-default');
    assertRefused(await cli(['iat', 'list'], {}, cwd), /^oauth-dcr: DATABASE_PATH: \.\/oauth-dcr\.db does not exist/);
    assert.deepEqual(await readdir(cwd), []);
  });

  it('refuses a file that is not an oauth-dcr database, and leaves it as it was', async () => {
    const cwd = await emptyDirectory('other');
    const other = join(cwd, 'other.db');
    await writeFile(other, '');
    const outcome = await cli(['iat', 'create'], { DATABASE_PATH: other }, cwd);
    assertRefused(
      outcome,
      /^oauth-dcr: DATABASE_PATH: .*other\.db is not an oauth-dcr database \(no dcr_clients table/,
    );
    assert.equal(readFileSync(other).length, 0);
    assert.deepEqual(await readdir(cwd), ['other.db']);
  });
});

describe('bad settings and usage: one line, exit code 2, nothing created on disk', () => {
  const cases: Array<{
    name: string;
    args?: string[];
    env: (cwd: string) => Promise<Record<string, string>>;
    refusal: RegExp;
  }> = [
    {
      name: 'DATABASE_PATH in a missing directory (migrate)',
      args: ['migrate'],
      env: async (cwd) => ({ DATABASE_PATH: join(cwd, 'missing', 'oauth.db') }),
      refusal: /^oauth-dcr: DATABASE_PATH: directory .*missing does not exist$/,
    },
    {
      name: 'DATABASE_PATH that is a directory',
      args: ['migrate'],
      env: async (cwd) => ({ DATABASE_PATH: cwd }),
      refusal: /^oauth-dcr: DATABASE_PATH: .* is a directory, not a database file$/,
    },
    {
      name: 'DATABASE_URL that is not a URL, never quoted',
      env: async () => ({ DATABASE_URL: '//dcr:Not-a-url-s3cret@db/dcr' }),
      refusal: /^oauth-dcr: DATABASE_URL must be a URL like postgres:\/\/user:password@host:5432\/database$/,
    },
    {
      name: 'DATABASE_URL of another database kind',
      env: async () => ({ DATABASE_URL: 'mysql://dcr:Wrong-kind-s3cret@localhost/dcr' }),
      refusal: /^oauth-dcr: DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/, got mysql:\/\/$/,
    },
    {
      name: 'an unreachable DATABASE_URL, whose password is never shown',
      env: async () => ({ DATABASE_URL: `postgres://dcr:Unreachable-s3cret@127.0.0.1:${await freePort()}/dcr` }),
      refusal: /^oauth-dcr: DATABASE_URL: cannot connect to postgres:\/\/dcr:\*\*\*@127\.0\.0\.1:\d+\/dcr: /,
    },
    {
      name: 'an unreachable --database-url flag, whose password is never shown',
      args: ['migrate', '--database-url', 'postgres://dcr:Flagged-s3cret@127.0.0.1:1/dcr'],
      env: async () => ({}),
      refusal: /^oauth-dcr: DATABASE_URL: cannot connect to postgres:\/\/dcr:\*\*\*@127\.0\.0\.1:1\/dcr: /,
    },
    {
      name: 'DATABASE_PATH and DATABASE_URL both set',
      env: async (cwd) => ({
        DATABASE_PATH: join(cwd, 'oauth.db'),
        DATABASE_URL: 'postgres://dcr:Both-set-s3cret@127.0.0.1:1/dcr',
      }),
      refusal: /^oauth-dcr: DATABASE_PATH and DATABASE_URL are both set: set one/,
    },
    {
      name: 'DATABASE_SCHEMA without DATABASE_URL',
      env: async () => ({ DATABASE_SCHEMA: 'auth' }),
      refusal: /^oauth-dcr: DATABASE_SCHEMA is a PostgreSQL setting: it needs DATABASE_URL$/,
    },
    {
      name: 'an unknown command',
      args: ['frobnicate'],
      env: async () => ({}),
      refusal: /^oauth-dcr: unknown command "frobnicate" \(see oauth-dcr help\)$/,
    },
    {
      name: 'an unknown option',
      args: ['iat', 'list', '--port', '3000'],
      env: async () => ({}),
      refusal: /^oauth-dcr: Unknown option '--port'/,
    },
    {
      name: "serve, which is the reference server's",
      args: ['serve'],
      env: async () => ({}),
      refusal: /^oauth-dcr: serve is a command of the reference server: npx oauth-dcr-server serve$/,
    },
    {
      name: "keys rotate, which is the reference server's (the signing keys live in its tables)",
      args: ['keys', 'rotate'],
      env: async () => ({}),
      refusal: /^oauth-dcr: keys is a command of the reference server: npx oauth-dcr-server keys rotate$/,
    },
    {
      name: 'iat create --uses 0',
      args: ['iat', 'create', '--uses', '0'],
      env: async (cwd) => ({ DATABASE_PATH: join(cwd, 'oauth.db') }),
      refusal: /^oauth-dcr: --uses must be a positive whole number$/,
    },
    {
      name: 'iat without a subcommand',
      args: ['iat'],
      env: async () => ({}),
      refusal: /^oauth-dcr: iat needs create, list or revoke$/,
    },
  ];
  for (const badCase of cases) {
    it(badCase.name, async () => {
      // The CLI runs from an empty directory: the default ./oauth-dcr.db would show up there too.
      const cwd = await emptyDirectory('bad');
      const outcome = await cli(badCase.args ?? ['iat', 'list'], await badCase.env(cwd), cwd);
      assertRefused(outcome, badCase.refusal);
      assert.doesNotMatch(outcome.stderr, /s3cret/);
      assert.deepEqual(await readdir(cwd), [], 'nothing created on disk');
    });
  }

  it('help prints the commands and exits 0', async () => {
    const outcome = await cli(['help'], {});
    assert.equal(outcome.code, 0);
    assert.match(outcome.stdout, /^Usage: oauth-dcr <command>/);
    assert.match(outcome.stdout, /iat create/);
    for (const line of [
      /clients show <id>/,
      /clients create --name N/,
      /audit \[--client ID\]/,
      /prune --idle \[--dry-run\]/,
    ])
      assert.match(outcome.stdout, line);
    assert.equal((await cli(['--help'], {})).stdout, outcome.stdout);
  });
});

describe('the admin commands as a module (no process)', () => {
  it('write through Output, and refuse a missing database without touching the disk', async () => {
    const cwd = await emptyDirectory('module');
    const lines: string[] = [];
    const output: Output = { out: (line) => lines.push(line), err: (line) => lines.push(`err: ${line}`) };
    const path = join(cwd, 'module.db');
    await assert.rejects(
      runAdminCommand({ positionals: ['clients', 'list'], flags: {}, env: { DATABASE_PATH: path }, output }),
      { name: 'SettingError', message: /module\.db does not exist/ },
    );
    assert.deepEqual(await readdir(cwd), []);
    await runAdminCommand({ positionals: ['migrate'], flags: { 'database-path': path }, env: {}, output });
    await runAdminCommand({
      positionals: ['iat', 'create'],
      flags: { label: 'from a test' },
      env: { DATABASE_PATH: path },
      output,
    });
    await runAdminCommand({ positionals: ['iat', 'list'], flags: {}, env: { DATABASE_PATH: path }, output });
    assert.match(
      lines.join('\n'),
      /applied migrations[\s\S]*uses: unlimited {2}expires: never {2}label: from a test[\s\S]*from a test\s+unlimited\s+never\s+active/,
    );
  });
});

describe('oauth-dcr admin commands on PostgreSQL', () => {
  const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
  if (!url) return;
  const schema = `dcr_admin_${randomBytes(4).toString('hex')}`;
  const query = async (text: string, values: unknown[] = []): Promise<Array<Record<string, unknown>>> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  const tablesIn = async (name: string): Promise<string[]> =>
    (
      await query('select table_name from information_schema.tables where table_schema = $1 order by table_name', [
        name,
      ])
    ).map((row) => String(row.table_name));
  after(() => query(`drop schema if exists "${schema}" cascade`));

  it('admin commands refuse a schema without oauth-dcr tables, and do not create it', async () => {
    const outcome = await cli(['clients', 'list'], { DATABASE_URL: url, DATABASE_SCHEMA: schema });
    assertRefused(
      outcome,
      new RegExp(
        `^oauth-dcr: DATABASE_URL: no oauth-dcr tables in schema ${schema} \\(this command never creates them`,
      ),
    );
    assert.deepEqual(await query('select 1 from information_schema.schemata where schema_name = $1', [schema]), []);
  });

  it("migrate and iat create on a fresh schema create oauth-dcr's dcr_* tables and no ref_* table", async () => {
    assert.match(
      await cliOk(['migrate'], { DATABASE_URL: url, DATABASE_SCHEMA: schema }),
      new RegExp(`applied migrations to PostgreSQL .*\\(schema ${schema}\\): 0001_initial`),
    );
    const tables = await tablesIn(schema);
    assert.ok(tables.includes('dcr_clients'), tables.join(', '));
    assert.deepEqual(
      tables.filter((name) => !name.startsWith('dcr_')),
      [],
    );

    const created = await cliOk(['iat', 'create', '--label', 'pg'], { DATABASE_URL: url, DATABASE_SCHEMA: schema });
    const id = /id: (\S+)/.exec(created)?.[1];
    assert.ok(id, created);
    assert.match(
      await cliOk(['iat', 'list', '--database-url', url, '--database-schema', schema], {}),
      new RegExp(`${id}\\s+pg\\s+unlimited\\s+never\\s+active`),
    );
    assert.equal(
      await cliOk(['clients', 'list'], { DATABASE_URL: url, DATABASE_SCHEMA: schema }),
      'no clients registered\n',
    );
    assert.deepEqual(await tablesIn(schema), tables, 'admin commands add no table');
    // Nor anywhere else: no ref_* table appeared in any schema of the database.
    assert.deepEqual(
      await query(
        "select table_schema, table_name from information_schema.tables where table_schema = $1 and table_name like 'ref\\_%'",
        [schema],
      ),
      [],
    );
  });

  it('what it prints never shows the password in DATABASE_URL', async () => {
    // Trust authentication ignores a password, so the test database accepts one made up here.
    const withPassword = new URL(url);
    withPassword.password = 'Printed-s3cret-pw';
    const outcome = await cli(['migrate'], { DATABASE_URL: withPassword.toString(), DATABASE_SCHEMA: schema });
    assert.equal(outcome.code, 0, JSON.stringify(outcome));
    assert.match(outcome.stdout, /PostgreSQL postgres:\/\/[^:\s]*:\*\*\*@.* is up to date/);
    assert.doesNotMatch(outcome.stdout + outcome.stderr, /Printed-s3cret-pw/);
  });
});

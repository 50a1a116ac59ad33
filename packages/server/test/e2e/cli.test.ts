import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { BrowserlessUser, authorizationUrl, pkcePair } from '../support/oauth-flow.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';

/**
 * `npm start`'s path: the reference server's command line, oauth-dcr-server, started as a process
 * (through tsx, so no build is needed), configured by environment variables, with its own SQLite
 * file. It must print its settings and a ready line, serve registration and metadata, create its
 * own tables, and stop cleanly on SIGTERM. A bad setting ends in one line naming it, exit code 2,
 * and nothing on disk. The admin commands are the library's oauth-dcr (packages/oauth-dcr/test/cli);
 * here they run against a database the server uses.
 */
// tsx by absolute URL: some cases run the CLI from an empty directory, where `--import tsx` would
// not resolve.
const CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'packages/server/src/cli.ts')];
const ADMIN_CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'packages/oauth-dcr/src/cli.ts')];
const run = promisify(execFile);
/** The server's own tables, beside oauth-dcr's dcr_* ones. */
const REF_TABLES = [
  'ref_authorization_codes',
  'ref_migrations',
  'ref_pending_authorizations',
  'ref_sessions',
  'ref_signing_keys',
  'ref_tokens',
  'ref_used_client_assertions',
  'ref_users',
];

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

interface Serving {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop(): Promise<number | null>;
}

async function serve(env: Record<string, string>): Promise<Serving> {
  const port = await freePort();
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DCR_DEMO_USER: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 20 s:\n${output}`)), 20_000);
    const check = () => {
      if (output.includes(`oauth-dcr listening on ${url}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`oauth-dcr serve exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** The library's admin command line, oauth-dcr. */
async function adminCli(args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, [...ADMIN_CLI, ...args], { env: { ...process.env, ...env } });
  return stdout;
}

/** The tables of a SQLite file, SQLite's own left out. */
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

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end, from `cwd`, and reports how it ended. */
function cliOutcome(args: string[], env: Record<string, string>, cwd: string): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...CLI, ...args],
      { cwd, env: { ...process.env, LOG_LEVEL: 'warn', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
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

async function emptyDirectory(name: string): Promise<string> {
  const path = join(dir, `${name}-${randomBytes(3).toString('hex')}`);
  await mkdir(path);
  return path;
}

describe('oauth-dcr-server serve (the npm start path)', () => {
  it('prints its settings and a demo user, serves registration and metadata, and stops on SIGTERM', async () => {
    const databasePath = join(dir, 'serve.db');
    const server = await serve({ DATABASE_PATH: databasePath });
    try {
      const banner = server.output();
      assert.match(banner, /DCR_ALLOWED_GRANT_TYPES\s+authorization_code,refresh_token\s+\(default\)/);
      assert.match(banner, new RegExp(`storage: SQLite ${databasePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const demo = /demo user created: username "([^"]+)", password "([^"]+)"/.exec(banner);
      assert.ok(demo, banner);
      // Without DCR_RESOURCES any https (or loopback http) resource is accepted: the banner says so.
      assert.match(banner, /resources: any https URI, or http on loopback, is accepted/);
      assert.match(banner, /signing keys: stored unsealed in the database; set DCR_SIGNING_KEY_SECRET/);

      const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(metadata.issuer, server.url);
      assert.equal(metadata.registration_endpoint, `${server.url}/register`);

      const registered = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'CLI test',
          redirect_uris: ['http://127.0.0.1:1/cb'],
          token_endpoint_auth_method: 'none',
        }),
      });
      assert.equal(registered.status, 201);
      const client = (await registered.json()) as Record<string, string>;

      // The printed demo credentials really sign in.
      const callback = await new BrowserlessUser(demo[1], demo[2]).authorize(
        authorizationUrl(server.url, {
          client_id: client.client_id!,
          redirect_uri: 'http://127.0.0.1:1/cb',
          code_challenge: pkcePair().challenge,
          code_challenge_method: 'S256',
        }),
      );
      assert.ok(callback.searchParams.get('code'));
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it("serves initial access tokens that the library's oauth-dcr creates, and creates its own tables at start", async () => {
    const env = { DATABASE_PATH: join(dir, 'admin.db') };
    assert.match(await adminCli(['migrate'], env), /applied migrations to SQLite .*0001_initial|is up to date/);
    const created = await adminCli(['iat', 'create', '--uses', '1', '--expires', '1d', '--label', 'ci runner'], env);
    const token = /shown once, keep it secret\):\n\s+(\S+)/.exec(created)?.[1];
    const id = /id: (\S+)/.exec(created)?.[1];
    assert.ok(token && id, created);

    // The admin commands made oauth-dcr's tables only; the server adds its own when it starts.
    assert.deepEqual(
      sqliteTables(env.DATABASE_PATH).filter((name) => name.startsWith('ref_')),
      [],
    );
    const server = await serve({ ...env, DCR_OPEN_REGISTRATION: 'false', DCR_DEMO_USER: 'admin:s3cret-pass' });
    try {
      assert.deepEqual(
        sqliteTables(env.DATABASE_PATH).filter((name) => name.startsWith('ref_')),
        REF_TABLES,
      );
      const register = (authorization?: string) =>
        fetch(`${server.url}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          body: JSON.stringify({ client_name: 'Token-gated', redirect_uris: ['https://app.example/cb'] }),
        });
      assert.equal((await register()).status, 401, 'open registration is off');
      assert.equal((await register(`Bearer ${token}`)).status, 201);
      assert.equal((await register(`Bearer ${token}`)).status, 401, 'the token had one use');
    } finally {
      assert.equal(await server.stop(), 0);
    }

    assert.match(await adminCli(['iat', 'list'], env), new RegExp(`${id}\\s+ci runner\\s+0\\s+\\S+\\s+used up`));
    assert.match(await adminCli(['clients', 'list'], env), /Token-gated\s+initial_access_token/);
    assert.match(await adminCli(['iat', 'revoke', id!], env), new RegExp(`revoked ${id}`));
  });

  it('shows the issuer in use, and what it was derived from', async () => {
    const server = await serve({ DATABASE_PATH: join(dir, 'issuer.db') });
    try {
      const port = new URL(server.url).port;
      assert.match(
        server.output(),
        new RegExp(`ISSUER\\s+http://127\\.0\\.0\\.1:${port}\\s+\\(derived from HOST=127\\.0\\.0\\.1 and PORT=${port}`),
      );
      assert.match(server.output(), new RegExp(`listening on: 127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(server.output(), /HOST:PORT/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});

describe('bad settings: one line naming the setting, exit code 2, nothing created on disk', () => {
  const cases: Array<{
    name: string;
    setting: RegExp;
    env: (cwd: string) => Promise<Record<string, string>>;
    cleanup?: () => Promise<void>;
  }> = [];
  let occupied: Server | undefined;

  cases.push({
    name: 'a grant the reference server cannot run',
    setting: /^oauth-dcr-server: DCR_ALLOWED_GRANT_TYPES: the reference server cannot run 'password'/,
    env: async (cwd) => ({
      DATABASE_PATH: join(cwd, 'oauth.db'),
      DCR_ALLOWED_GRANT_TYPES: 'authorization_code,password',
    }),
  });
  cases.push({
    name: 'DATABASE_PATH in a missing directory',
    setting: /^oauth-dcr-server: DATABASE_PATH: directory .*missing does not exist$/,
    env: async (cwd) => ({ DATABASE_PATH: join(cwd, 'missing', 'oauth.db') }),
  });
  cases.push({
    name: 'an unreachable DATABASE_URL, whose password is never shown',
    setting: /^oauth-dcr-server: DATABASE_URL: cannot connect to postgres:\/\/dcr:\*\*\*@127\.0\.0\.1:\d+\/dcr: /,
    env: async () => ({ DATABASE_URL: `postgres://dcr:Unreachable-s3cret@127.0.0.1:${await freePort()}/dcr` }),
  });
  cases.push({
    name: 'LOG_LEVEL=verbose',
    setting:
      /^oauth-dcr-server: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/,
    env: async (cwd) => ({ DATABASE_PATH: join(cwd, 'oauth.db'), LOG_LEVEL: 'verbose' }),
  });
  cases.push({
    name: 'a port already in use',
    setting: /^oauth-dcr-server: PORT: 127\.0\.0\.1:\d+ is already in use$/,
    env: async (cwd) => {
      occupied = createServer();
      await new Promise<void>((resolve) => occupied!.listen(0, '127.0.0.1', resolve));
      return { DATABASE_PATH: join(cwd, 'oauth.db'), PORT: String((occupied.address() as { port: number }).port) };
    },
    cleanup: async () => {
      await new Promise((resolve) => occupied?.close(resolve));
    },
  });

  for (const badCase of cases) {
    it(badCase.name, async () => {
      // The CLI runs from an empty directory: the default ./oauth-dcr.db would show up there too.
      const cwd = await emptyDirectory('bad-setting');
      try {
        const outcome = await cliOutcome(['serve'], { HOST: '127.0.0.1', PORT: '0', ...(await badCase.env(cwd)) }, cwd);
        assertRefused(outcome, badCase.setting);
        assert.doesNotMatch(outcome.stderr, /Unreachable-s3cret/);
        assert.deepEqual(await readdir(cwd), [], 'nothing created on disk');
      } finally {
        await badCase.cleanup?.();
      }
    });
  }
});

describe("oauth-dcr-server: prune never creates a database, and the admin commands are oauth-dcr's", () => {
  it('prune refuses a DATABASE_PATH that does not exist', async () => {
    const cwd = await emptyDirectory('admin');
    const outcome = await cliOutcome(['prune'], { DATABASE_PATH: join(cwd, 'mistyped.db') }, cwd);
    assertRefused(
      outcome,
      /^oauth-dcr-server: DATABASE_PATH: .*mistyped\.db does not exist \(this command never creates a database/,
    );
    assert.deepEqual(await readdir(cwd), []);
  });

  it('prune refuses a file that is not an oauth-dcr database, and leaves it as it was', async () => {
    const cwd = await emptyDirectory('admin');
    const other = join(cwd, 'other.db');
    await writeFile(other, '');
    const outcome = await cliOutcome(['prune'], { DATABASE_PATH: other }, cwd);
    assertRefused(outcome, /^oauth-dcr-server: DATABASE_PATH: .*other\.db is not an oauth-dcr database/);
    assert.equal(readFileSync(other).length, 0);
  });

  for (const command of [
    ['iat', 'create'],
    ['clients', 'list'],
  ]) {
    it(`${command.join(' ')} points to the library's oauth-dcr, and opens nothing`, async () => {
      const cwd = await emptyDirectory('admin');
      const outcome = await cliOutcome(command, { DATABASE_PATH: join(cwd, 'oauth.db') }, cwd);
      assertRefused(
        outcome,
        new RegExp(
          `^oauth-dcr-server: ${command[0]} is an oauth-dcr admin command: npx oauth-dcr ${command.join(' ')} `,
        ),
      );
      assert.deepEqual(await readdir(cwd), []);
    });
  }

  it("the server's migrate may create one, with its own tables beside oauth-dcr's; prune then works on it", async () => {
    const cwd = await emptyDirectory('admin');
    const path = join(cwd, 'new.db');
    const outcome = await cliOutcome(['migrate'], { DATABASE_PATH: path }, cwd);
    assert.equal(outcome.code, 0, outcome.stderr);
    const tables = sqliteTables(path);
    assert.ok(tables.includes('dcr_clients'), tables.join(', '));
    assert.deepEqual(
      tables.filter((name) => !name.startsWith('dcr_')),
      REF_TABLES,
    );
    assert.equal(
      (await cliOutcome(['prune'], { DATABASE_PATH: path }, cwd)).stdout,
      'deleted 0 expired codes, tokens, client assertions and signing keys\n',
    );
  });
});

describe('PostgreSQL settings', () => {
  const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
  if (!url) return;
  const schema = `dcr_cli_${randomBytes(4).toString('hex')}`;
  const schemaExists = async (): Promise<boolean> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (
        (await client.query('select 1 from information_schema.schemata where schema_name = $1', [schema])).rows.length >
        0
      );
    } finally {
      await client.end();
    }
  };
  after(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.end();
    }
  });

  it('prune refuses a schema without oauth-dcr tables, and does not create it', async () => {
    const outcome = await cliOutcome(['prune'], { DATABASE_URL: url, DATABASE_SCHEMA: schema }, dir);
    assertRefused(
      outcome,
      new RegExp(
        `^oauth-dcr-server: DATABASE_URL: no oauth-dcr tables in schema ${schema} \\(this command never creates them`,
      ),
    );
    assert.equal(await schemaExists(), false);
  });

  it('the banner shows DATABASE_URL without its password', async () => {
    // Trust authentication ignores a password, so the test database accepts one made up here.
    const withPassword = new URL(url);
    withPassword.password = 'Banner-s3cret-pw';
    const server = await serve({ DATABASE_URL: withPassword.toString(), DATABASE_SCHEMA: schema });
    try {
      assert.match(server.output(), /DATABASE_URL\s+postgres:\/\/[^:\s]*:\*\*\*@/);
      assert.doesNotMatch(server.output(), /Banner-s3cret-pw/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.doesNotMatch(server.output(), /Banner-s3cret-pw/);
    // serve created the server's own tables beside oauth-dcr's.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(
        "select table_name from information_schema.tables where table_schema = $1 and table_name like 'ref\\_%' order by table_name",
        [schema],
      );
      assert.deepEqual(
        rows.map((row) => row.table_name),
        REF_TABLES,
      );
    } finally {
      await client.end();
    }
  });
});

/**
 * What Docker and systemd do: SIGTERM to the process they started, `npm start` here. The server
 * must stop (listener closed, database closed), and no process of the tree may outlive npm.
 */
describe('npm start', () => {
  /** Every process below `pid`, from /proc (Linux). */
  function descendants(pid: number): number[] {
    const parents = new Map<number, number>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        // The command name, in parentheses, may hold spaces: the fields after it are fixed.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        parents.set(Number(name), ppid);
      } catch {
        // Gone while we looked.
      }
    }
    const found: number[] = [];
    const walk = (parent: number) => {
      for (const [child, ppid] of parents) {
        if (ppid === parent) {
          found.push(child);
          walk(child);
        }
      }
    };
    walk(pid);
    return found;
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('SIGTERM to the npm process stops the server cleanly and leaves no process behind', {
    skip: !existsSync('/proc/self/stat') && 'needs /proc',
    timeout: 240_000,
  }, async () => {
    const port = await freePort();
    const databasePath = join(dir, 'npm-start.db');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_PATH: databasePath,
      LOG_LEVEL: 'warn',
      DCR_DEMO_USER: '',
    };
    // npm start runs the built server, which resolves the library to its dist/, not its sources.
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    // Under `npm test`, the npm that runs us; otherwise the one on PATH.
    const npmCli = process.env.npm_execpath;
    const npm = npmCli?.endsWith('.js')
      ? spawn(process.execPath, [npmCli, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('npm', ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout!.on('data', (chunk) => (output += chunk));
    npm.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    let tree: number[] = [];
    try {
      // A stale dist/ is rebuilt first (prestart), which can take a while on a busy machine.
      const deadline = Date.now() + 180_000;
      while (!output.includes(`oauth-dcr listening on http://127.0.0.1:${port}`)) {
        assert.ok(npm.exitCode === null, `npm start exited early:\n${output}`);
        assert.ok(Date.now() < deadline, `no ready line:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      tree = descendants(npm.pid!);
      assert.ok(tree.length > 0, 'npm start runs the server as a child');

      process.kill(npm.pid!, 'SIGTERM');
      await exited;
      const leftDeadline = Date.now() + 15_000;
      while (tree.some(alive) && Date.now() < leftDeadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(tree.filter(alive), [], `processes outlived npm start:\n${output}`);

      assert.match(output, /SIGTERM, shutting down/);
      // The port is free again...
      const probe = createServer();
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.listen(port, '127.0.0.1', resolve);
      });
      await new Promise((resolve) => probe.close(resolve));
      // ...and SQLite was closed, not abandoned: the last connection to close removes the WAL.
      assert.ok(existsSync(databasePath));
      assert.equal(existsSync(`${databasePath}-wal`), false, 'the database was closed');
    } finally {
      for (const pid of [npm.pid!, ...tree]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

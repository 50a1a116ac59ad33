#!/usr/bin/env node
// What a user of the library gets: installs the packed library into fresh projects outside the
// repository, from the npm registry, as a user would, and checks
//
//   1. SQLite: the tarball + better-sqlite3 + kysely (the sqlite subpath's peers). The README's
//      quick start, compiled by TypeScript with skipLibCheck: false, registers a client (201). No
//      Express, pg, pino or @node-oauth/oauth2-server is installed. Prints the package count and
//      the size of node_modules.
//   2. PostgreSQL: the tarball + pg + kysely. Nothing is compiled natively. With
//      DCR_TEST_POSTGRES_URL set, the same quick start on postgresStore registers a client too.
//
// Run by hand (installs from the registry take a while; better-sqlite3 compiles from source, about
// two minutes, where no prebuilt binary is reachable), not by npm test:
//
//   node scripts/consumer-check.mjs [--keep]     --keep leaves the projects in the temp directory
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const library = join(root, 'packages', 'oauth-dcr');
const keep = process.argv.includes('--keep');
// Never present in a library user's install: they belong to the reference server or are optional
// peers. (rate-limiter-flexible is the library's own dependency: its rate limits are on by default.)
const FORBIDDEN = ['express', 'pg', 'pino', '@node-oauth/oauth2-server', 'prom-client', 'ioredis'];
// Only for compiling the example; counted separately from what the library brings.
const COMPILER = ['typescript@5', '@types/node@20'];

// The repository's test runner setting would make `oauth-dcr` resolve to sources that are not shipped.
const { NODE_OPTIONS: _ignored, ...env } = process.env;

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

function step(message) {
  process.stdout.write(`consumer-check: ${message}\n`);
}

/** The README's quick start: the first ```ts block after the heading that starts with `heading`. */
function readmeExample(heading) {
  const readme = readFileSync(join(library, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n## ${heading}`);
  if (at < 0) throw new Error(`packages/oauth-dcr/README.md has no "## ${heading}" section`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error(`no ts example under "## ${heading}"`);
  return block[1];
}

/** Installed packages: every node_modules/<name> and node_modules/@scope/<name>, nested included. */
function installedPackages(dir) {
  const found = [];
  const walk = (modules) => {
    if (!existsSync(modules)) return;
    for (const name of readdirSync(modules)) {
      if (name.startsWith('.')) continue;
      const names = name.startsWith('@') ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name];
      for (const full of names) {
        found.push(full);
        walk(join(modules, full, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return found;
}

/** Files that mean something was compiled natively (or would be): node-gyp inputs and outputs. */
function nativeBuilds(dir) {
  const found = [];
  const walk = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === 'binding.gyp' || entry.name.endsWith('.node')) found.push(full.slice(dir.length + 1));
    }
  };
  walk(join(dir, 'node_modules'));
  return found;
}

function size(dir) {
  return run('du', ['-sh', join(dir, 'node_modules')], dir).split('\t')[0];
}

function project(work, name, example) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }, null, 2)}\n`,
  );
  writeFileSync(join(dir, 'server.ts'), example);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          module: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2023'],
          strict: true,
          skipLibCheck: false,
          outDir: 'dist',
          types: ['node'],
        },
        include: ['server.ts'],
      },
      null,
      2,
    )}\n`,
  );
  return dir;
}

/** npm install, returning npm's own "added N packages" line. */
function install(dir, specs, dev = false) {
  const output = run('npm', ['install', '--no-audit', '--no-fund', ...(dev ? ['--save-dev'] : []), ...specs], dir);
  return /added \d+ packages?[^\n]*/.exec(output)?.[0] ?? output.trim();
}

/** Compiles server.ts, starts it and registers a client: the status and the client id. */
async function register(dir, extraEnv = {}) {
  run('npx', ['tsc', '-p', '.'], dir);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn(process.execPath, ['dist/server.js'], {
    cwd: dir,
    env: { ...env, ...extraEnv, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  server.stdout.on('data', (chunk) => {
    output += chunk;
  });
  server.stderr.on('data', (chunk) => {
    output += chunk;
  });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/register`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            client_name: 'consumer check',
            redirect_uris: ['http://127.0.0.1:33418/callback'],
            token_endpoint_auth_method: 'none',
          }),
        });
        const body = await response.json();
        return { status: response.status, clientId: body.client_id };
      } catch (error) {
        if (attempt >= 50 || server.exitCode !== null)
          throw new Error(`server did not answer: ${error.message}\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    server.kill();
  }
}

const failures = [];
function check(condition, message) {
  step(`${condition ? 'ok  ' : 'FAIL'} ${message}`);
  if (!condition) failures.push(message);
}

run(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], root);
const work = mkdtempSync(join(tmpdir(), 'oauth-dcr-consumer-'));
try {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], library));
  const tarball = join(work, packed[0].filename);
  step(`packed ${packed[0].filename}: ${packed[0].entryCount} files, ${(packed[0].size / 1024).toFixed(0)} kB`);
  const example = readmeExample('Quick start');

  // 1. SQLite
  const sqlite = project(work, 'sqlite', example);
  const started = Date.now();
  const added = install(sqlite, [tarball, 'better-sqlite3@12', 'kysely']);
  const packages = installedPackages(sqlite);
  step(
    `sqlite: npm install oauth-dcr.tgz better-sqlite3@12 kysely: ${added} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  step(`sqlite: ${packages.length} packages in node_modules, ${size(sqlite)} (du -sh node_modules)`);
  check(
    FORBIDDEN.every((name) => !packages.includes(name)),
    `sqlite: none of ${FORBIDDEN.join(', ')} installed`,
  );
  step(`sqlite: compiler for the example: ${install(sqlite, COMPILER, true)}`);
  const sqliteResult = await register(sqlite);
  check(
    sqliteResult.status === 201 && typeof sqliteResult.clientId === 'string',
    `sqlite: README quick start (skipLibCheck: false) registers a client: ${sqliteResult.status} ${sqliteResult.clientId}`,
  );

  // 2. PostgreSQL: the same example on postgresStore.
  const pgExample = example
    .replace("import { sqliteStore } from 'oauth-dcr/sqlite';", "import { postgresStore } from 'oauth-dcr/postgres';")
    .replace(/sqliteStore\('[^']*'\)/, "postgresStore(process.env.DATABASE_URL ?? 'postgres://localhost/oauth')");
  if (pgExample === example)
    throw new Error('the quick start no longer reads as sqliteStore(...) from oauth-dcr/sqlite');
  const postgres = project(work, 'postgres', pgExample);
  const pgAdded = install(postgres, [tarball, 'pg', 'kysely']);
  const pgPackages = installedPackages(postgres);
  step(`postgres: npm install oauth-dcr.tgz pg kysely: ${pgAdded}`);
  step(`postgres: ${pgPackages.length} packages in node_modules, ${size(postgres)} (du -sh node_modules)`);
  check(
    nativeBuilds(postgres).length === 0,
    `postgres: no native build (${nativeBuilds(postgres).join(', ') || 'no binding.gyp, no .node file'})`,
  );
  check(
    !pgPackages.includes('better-sqlite3') && !pgPackages.includes('express') && !pgPackages.includes('pino'),
    'postgres: no better-sqlite3, Express or pino',
  );
  install(postgres, COMPILER, true);
  if (process.env.DCR_TEST_POSTGRES_URL) {
    const pgResult = await register(postgres, { DATABASE_URL: process.env.DCR_TEST_POSTGRES_URL });
    check(
      pgResult.status === 201,
      `postgres: the quick start on postgresStore registers a client: ${pgResult.status} ${pgResult.clientId}`,
    );
  } else {
    run('npx', ['tsc', '-p', '.'], postgres);
    check(
      true,
      'postgres: the quick start on postgresStore compiles with skipLibCheck: false (set DCR_TEST_POSTGRES_URL to run it)',
    );
  }
} finally {
  if (keep) step(`projects kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (failures.length > 0) {
  step(`${failures.length} check(s) failed`);
  process.exit(1);
}
step('all checks passed');

#!/usr/bin/env node
// Runs the test files of every package (or of the packages or files named) with Node's own test
// runner, TypeScript loaded through tsx.
//
// The `oauth-dcr-source` condition makes `import 'oauth-dcr'` resolve to the library's sources
// instead of its dist/: the server's tests then run against the library as it is in the work
// tree, still through its package exports (the public API) only. It is passed in NODE_OPTIONS so
// that the processes a test spawns (the CLI, a second server) resolve the same way.
//
// Suites that need a service (PostgreSQL, Redis, Chromium) decide for themselves whether to run:
// on CI (CI=true) a missing service is a failure; on a newcomer's machine the suite is skipped
// with a one-line notice, and counted as skipped.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['packages/oauth-dcr', 'packages/server'];

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

// Paths are taken relative to the directory npm was run from, and run from the repository root.
const named = process.argv.slice(2).map((arg) => relative(root, resolve(process.env.INIT_CWD ?? process.cwd(), arg)));
const targets = named.length > 0 ? named : PACKAGES;
const files = targets.flatMap((target) =>
  statSync(join(root, target)).isDirectory()
    ? findTests(join(root, target, PACKAGES.includes(target) ? 'test' : '')).map((file) => relative(root, file))
    : [target],
);
const nodeOptions = [process.env.NODE_OPTIONS, '--conditions=oauth-dcr-source'].filter(Boolean).join(' ');
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test', NODE_OPTIONS: nodeOptions },
});
process.exit(result.status ?? 1);

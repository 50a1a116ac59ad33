#!/usr/bin/env node
// Compiles each package's src/ into its dist/ with tsc (the library first: the server compiles
// against the library's published types), and records when a build completed.
//
//   node scripts/build.mjs             build (npm run build, and `prepare` on npm install/ci)
//   node scripts/build.mjs --if-stale  build only when a source is newer than the last build
//                                      (`prestart`: a fresh clone or a `git pull` rebuilds once,
//                                      every other `npm start` starts at once)
//
// The stamp is written only after tsc succeeds, so a failed build is retried on the next start
// instead of running what it half emitted.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// In build order: the server imports the library by its package name.
const packages = ['packages/oauth-dcr', 'packages/server'].map((dir) => join(root, dir));
const stamp = join(root, 'packages', 'server', 'dist', '.build-stamp');
const entry = join(root, 'packages', 'server', 'dist', 'cli.js');
// What the output depends on: the sources and the compiler settings.
const inputs = [
  join(root, 'tsconfig.base.json'),
  ...packages.flatMap((dir) => [join(dir, 'src'), join(dir, 'tsconfig.build.json'), join(dir, 'package.json')]),
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs; // a deleted or renamed file changes its directory's mtime
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function isStale() {
  if (!existsSync(entry) || !existsSync(stamp)) return true;
  return Math.max(...inputs.map(newestMtime)) > statSync(stamp).mtimeMs;
}

function findTsc() {
  try {
    return createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

const ifStale = process.argv.includes('--if-stale');
if (ifStale && !isStale()) process.exit(0);

const tsc = findTsc();
if (!tsc) {
  // Installed without dev dependencies (npm ci --omit=dev in an image): run what was built.
  if (ifStale && existsSync(entry)) {
    process.stderr.write(
      'oauth-dcr: dist/ may be older than the sources, and TypeScript is not installed to rebuild it; starting what is built\n',
    );
    process.exit(0);
  }
  process.stderr.write('oauth-dcr: cannot build dist/: TypeScript is not installed (run npm install)\n');
  process.exit(1);
}

if (ifStale) process.stderr.write('oauth-dcr: sources changed since the last build; building once\n');
for (const dir of packages) {
  // From clean: tsc never deletes the output of a source that was renamed or removed, and such an
  // orphan would be packed and published.
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  const result = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.build.json')], {
    cwd: dir,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
writeFileSync(stamp, `${new Date().toISOString()}\n`);

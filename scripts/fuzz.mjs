#!/usr/bin/env node
// `npm run fuzz`: the property tests of packages/*/test/property, at length.
//
// `npm test` runs each property for a few hundred cases, and replays every kept failure. This
// runs them again with FUZZ_RUNS cases in total (default 100,000), shared between the properties
// by the fuzzShare each declares, and keeps any new failure: the property's seed, shrink path and
// counterexample go to the package's test/property/seeds/<property>-<seed>.json. Commit that file
// with the fix; from then on `npm test` replays it every time, so a bug once found stays found.
//
//   npm run fuzz                        100,000 cases, random seeds
//   FUZZ_RUNS=5000 npm run fuzz         a quick run
//   FUZZ_SEED=42 npm run fuzz           the same cases as an earlier run that printed seed 42
//   FUZZ_STORE=postgres npm run fuzz    the HTTP property on PostgreSQL (DCR_TEST_POSTGRES_URL)
//   npm run fuzz -- packages/server     one package's properties only
//
// At the end it prints, per property, the cases run, the time and the rate, and where any
// failure was kept. It exits non-zero when a property failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIRECTORIES = ['packages/oauth-dcr/test/property', 'packages/server/test/property'];

const runs = process.env.FUZZ_RUNS ?? '100000';
if (!/^[1-9]\d*$/.test(runs)) {
  console.error(`FUZZ_RUNS must be a positive whole number, not ${JSON.stringify(runs)}`);
  process.exit(2);
}

const asked = process.argv.slice(2).map((arg) => relative(root, resolve(process.env.INIT_CWD ?? process.cwd(), arg)));
const directories =
  asked.length === 0 ? DIRECTORIES : DIRECTORIES.filter((dir) => asked.some((a) => dir.startsWith(a)));
const files = directories.flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((name) => name.endsWith('.test.ts'))
    .sort()
    .map((name) => join(dir, name)),
);
if (files.length === 0) {
  console.error(`no property tests under ${asked.join(', ')}`);
  process.exit(2);
}

const scratch = mkdtempSync(join(tmpdir(), 'oauth-dcr-fuzz-'));
const reportFile = join(scratch, 'report.jsonl');
const seedsBefore = new Set(listSeeds());
console.log(`fuzz: ${runs} cases over ${files.length} files (${files.join(', ')})`);
const started = Date.now();
const result = spawnSync(process.execPath, [join(root, 'scripts/run-tests.mjs'), ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: runs, FUZZ_RECORD_SEEDS: '1', FUZZ_REPORT: reportFile, INIT_CWD: root },
});
const seconds = (Date.now() - started) / 1000;

let lines = [];
try {
  lines = readFileSync(reportFile, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
} catch {
  // No property reached its end (a failure in set-up): the test output above says why.
}
rmSync(scratch, { recursive: true, force: true });

console.log('\nfuzz summary');
let total = 0;
for (const { name, cases, ms, failed } of lines) {
  total += cases;
  const rate = ms > 0 ? Math.round((cases * 1000) / ms) : cases;
  console.log(
    `  ${name.padEnd(24)} ${String(cases).padStart(7)} cases  ${(ms / 1000).toFixed(1).padStart(7)} s  ${String(rate).padStart(5)}/s  ${failed ? 'FAILED' : 'ok'}`,
  );
}
console.log(
  `  total                    ${String(total).padStart(7)} cases in ${seconds.toFixed(1)} s (wall, set-up included)`,
);
// Seed files written during this run by a property that failed in it (not by another process).
const failedNames = new Set(lines.filter((line) => line.failed).map((line) => line.name));
const kept = listSeeds().filter(
  (file) => !seedsBefore.has(file) && [...failedNames].some((name) => file.includes(`/seeds/${name}-`)),
);
for (const file of kept) console.log(`  new failure kept: ${file} (commit it with the fix; npm test replays it)`);
process.exit(result.status ?? 1);

function listSeeds() {
  return DIRECTORIES.flatMap((dir) => {
    try {
      return readdirSync(join(root, dir, 'seeds'))
        .filter((name) => name.endsWith('.json'))
        .map((name) => join(dir, 'seeds', name));
    } catch {
      return [];
    }
  });
}

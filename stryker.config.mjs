// Mutation testing (StrykerJS): `npm run mutate`. Stryker changes the security rules below one
// small edit (a "mutant") at a time and runs the test files that reach the changed line; a mutant
// no test notices is a rule the suite does not really hold.
//
// - `npm run mutate` re-tests only what changed since the last run (incremental file below).
// - `npm run mutate -- --force` re-tests every mutant.
// - `npm run mutate -- --mutate packages/oauth-dcr/src/net/address-policy.ts` runs one module.
// Reports: reports/mutation/<run>.html and .json, <run> being `all` or the modules' names
// (git-ignored, like the incremental files beside them).

/**
 * Each module under test, with the test files that hold its rules. Stryker records which test
 * files reach each mutant and runs only those for it; but a mutant in module-level code (a table,
 * a constant) is "static" and runs every selected file, so each module names its own few.
 * All are fast (each well under two seconds alone).
 */
const T = 'packages/oauth-dcr/test';
const MODULES = {
  'packages/oauth-dcr/src/metadata/redirect-uris.ts': [
    `${T}/unit/redirect-uris.test.ts`,
    `${T}/http/register.test.ts`,
    `${T}/mutation/redirect-uris-*.test.ts`,
  ],
  'packages/oauth-dcr/src/metadata/validate.ts': [
    `${T}/unit/client-metadata.test.ts`,
    `${T}/unit/client-keys.test.ts`,
    `${T}/http/register.test.ts`,
    `${T}/http/real-clients.test.ts`,
    `${T}/http/oidc-metadata.test.ts`,
    `${T}/dry-run/refusals.test.ts`,
    `${T}/mutation/metadata-*.test.ts`,
  ],
  'packages/oauth-dcr/src/metadata/grant-types.ts': [
    `${T}/unit/grant-types.test.ts`,
    `${T}/http/register.test.ts`,
    `${T}/http/real-clients.test.ts`,
    `${T}/mutation/metadata-*.test.ts`,
  ],
  'packages/oauth-dcr/src/metadata/fields.ts': [
    `${T}/unit/client-metadata.test.ts`,
    `${T}/http/register.test.ts`,
    `${T}/http/real-clients.test.ts`,
    `${T}/mutation/metadata-*.test.ts`,
  ],
  'packages/oauth-dcr/src/core/secrets.ts': [
    `${T}/unit/secrets.test.ts`,
    `${T}/http/register.test.ts`,
    `${T}/mutation/secrets-*.test.ts`,
  ],
  'packages/oauth-dcr/src/protocol/client-secret.ts': [
    `${T}/http/register.test.ts`,
    `${T}/http/registration-view.test.ts`,
    `${T}/mutation/secrets-*.test.ts`,
  ],
  'packages/oauth-dcr/src/protocol/client-auth.ts': [
    `${T}/unit/client-auth.test.ts`,
    `${T}/http/client-assertion.test.ts`,
    `${T}/mutation/client-auth-*.test.ts`,
  ],
  'packages/oauth-dcr/src/net/safe-fetch.ts': [
    `${T}/net/safe-fetch.test.ts`,
    `${T}/net/safe-fetch-guard.test.ts`,
    `${T}/mutation/safe-fetch-*.test.ts`,
  ],
  'packages/oauth-dcr/src/net/address-policy.ts': [
    `${T}/net/address-policy.test.ts`,
    `${T}/net/safe-fetch-guard.test.ts`,
    `${T}/mutation/address-policy-*.test.ts`,
  ],
};

/**
 * `--mutate <files>` on the command line narrows the run to those modules, and the test files to
 * theirs; without it, every module above is mutated against the union of their test files.
 */
function requestedModules() {
  const flag = process.argv.findIndex((arg) => arg === '--mutate' || arg === '-m');
  const value = flag === -1 ? undefined : process.argv[flag + 1];
  if (value === undefined) return Object.keys(MODULES);
  const named = value.split(',').map((entry) => entry.trim().replace(/^(?:packages\/oauth-dcr\/)?/, 'packages/oauth-dcr/'));
  return Object.keys(MODULES).filter((module) => named.includes(module));
}

const selected = requestedModules();
const mutate = selected.length > 0 ? selected : Object.keys(MODULES);
const testFiles = [...new Set(mutate.flatMap((module) => MODULES[module]))];
// A run over some modules writes a report of those alone, so each selection keeps its own
// incremental file: a one-module run never discards what the full run recorded.
const runName =
  mutate.length === Object.keys(MODULES).length
    ? 'all'
    : mutate.map((module) => module.replace(/^.*\//, '').replace(/\.ts$/, '')).join('+');

// The test processes see what scripts/run-tests.mjs gives them: the library resolved from its
// sources, and NODE_ENV=test.
process.env.NODE_ENV = 'test';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  tap: {
    testFiles,
    // Each test file runs in its own process, in-process (no `--test`, whose child processes
    // Stryker's coverage hook would not see), printing TAP.
    nodeArgs: [
      '--import',
      'tsx',
      '--conditions=oauth-dcr-source',
      '--test-reporter=tap',
      '-r',
      '{{hookFile}}',
      '{{testFile}}',
    ],
  },
  mutate,
  coverageAnalysis: 'perTest',
  // Two cores: never more than two test processes at once.
  concurrency: 2,
  incremental: true,
  incrementalFile: `reports/mutation/incremental/${runName}.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${runName}.html` },
  jsonReporter: { fileName: `reports/mutation/${runName}.json` },
  // Only the library is needed in the sandbox; the rest of the repository is left out of the copy.
  ignorePatterns: ['packages/server', 'examples', 'bench', 'test-artifacts', 'coverage', '**/dist', '*.db*'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  timeoutMS: 10000,
  thresholds: { high: 90, low: 80, break: null },
};

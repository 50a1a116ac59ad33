import { relative } from 'node:path';
import { test } from 'node:test';

/**
 * Whether a suite that needs an external service should run. On CI (CI=true) a missing service
 * fails the run; locally the suite is skipped with a one-line notice, and counted as skipped.
 */
export function requireService(name: string, value: string | undefined): string | undefined {
  if (value) return value;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    throw new Error(`${name} is required on CI but is not set`);
  }
  process.stderr.write(`skipping ${name} suites: set ${name} to run them\n`);
  countSkippedSuite(`suites that need ${name}`, `${name} not set`);
  return undefined;
}

/**
 * Registers one skipped test standing for a suite that did not run, so that the runner's final
 * "skipped N" says so. Node 20's runner counts skipped tests, not skipped suites: a
 * `describe(..., { skip })` (or a suite never declared) leaves "skipped 0", which reads as
 * "everything ran".
 */
export function countSkippedSuite(what: string, reason: string): void {
  // The runner starts one process per test file, with the file as argv[1]: naming it tells the
  // reader which file's suites are missing.
  const file = process.argv[1] ? relative(process.cwd(), process.argv[1]) : 'this file';
  test(`${file}: ${what}`, { skip: reason }, () => {});
}

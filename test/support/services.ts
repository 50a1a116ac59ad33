/**
 * Whether a suite that needs an external service should run. On CI (CI=true) a missing service
 * fails the run; locally the suite is skipped with a one-line notice.
 */
export function requireService(name: string, value: string | undefined): string | undefined {
  if (value) return value;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    throw new Error(`${name} is required on CI but is not set`);
  }
  process.stderr.write(`skipping ${name} suites: set ${name} to run them\n`);
  return undefined;
}

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

/**
 * A newcomer's `npm test` without PostgreSQL must say, in its totals, that suites did not run:
 * "skipped 0" after skipping the PostgreSQL store contract reads as "everything ran".
 */
const run = promisify(execFile);

describe('npm test counts what did not run', () => {
  it('a suite skipped for a missing service shows in the final "skipped" count', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DCR_TEST_POSTGRES_URL;
    delete env.CI;
    // Set by the runner for its own children; a nested runner that sees it reports to it
    // instead of printing its totals.
    delete env.NODE_TEST_CONTEXT;
    const { stdout } = await run(
      process.execPath,
      ['scripts/run-tests.mjs', 'packages/oauth-dcr/test/stores/postgres.test.ts'],
      { env },
    );
    const skipped = /^ℹ skipped (\d+)$/m.exec(stdout);
    assert.ok(skipped, stdout);
    assert.ok(Number(skipped[1]) >= 1, `expected a non-zero skipped count:\n${stdout}`);
    assert.match(stdout, /test\/stores\/postgres\.test\.ts: suites that need DCR_TEST_POSTGRES_URL/);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';

/**
 * The commands each package installs (`oauth-dcr`, `oauth-dcr-server`). npm links them when it
 * installs the package, before `prepare` builds dist/, and silently skips a command whose file does
 * not exist then: a bin pointing into dist/ left a fresh clone with `npx oauth-dcr` "not found".
 * So every bin must be a committed file outside dist/, executable, that runs the CLI.
 */
const PACKAGES = ['packages/oauth-dcr', 'packages/server'];
const run = promisify(execFile);

describe('installed commands', () => {
  // The commands run the compiled CLI: build it if a source is newer than the last build.
  before(() => run(process.execPath, ['scripts/build.mjs', '--if-stale']));

  for (const dir of PACKAGES) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      bin?: Record<string, string>;
      files?: string[];
    };
    for (const [command, file] of Object.entries(manifest.bin ?? {})) {
      it(`${command} is a committed, executable file outside dist/ that runs the CLI`, async () => {
        assert.ok(!file.startsWith('dist/'), `${command} points into dist/, which does not exist when npm links it`);
        const path = join(dir, file);
        const { stdout: tracked } = await run('git', ['ls-files', '--error-unmatch', path]);
        assert.equal(tracked.trim(), path);
        accessSync(path, constants.X_OK);
        assert.ok(
          manifest.files?.some((entry) => file.startsWith(`${entry}/`)),
          `${file} is not in "files"`,
        );
        const { stdout } = await run(process.execPath, [path, 'help'], {
          env: { ...process.env, NODE_OPTIONS: '' },
        });
        assert.match(stdout, new RegExp(`^Usage: ${command} `));
      });
    }
  }
});

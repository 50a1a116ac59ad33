import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandFailure, UsageError } from '../../src/admin/commands.js';
import { SettingError } from '../../src/admin/settings.js';
import { assertOneLine, cli, command } from '../cli/run-cli.js';
import { makeRegistration } from '../support/registration.js';

/**
 * `oauth-dcr validate`: the dry run on the command line. A few spawned runs prove the process
 * side (exit codes, stdin, one-line errors); the rest runs the same command in this process.
 * Its verdict is `validate()`'s under the deployment's settings, read from the environment.
 */

const FIXTURE = new URL('../fixtures/clients/mcp-remote.json', import.meta.url);
const remote = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as { body: Record<string, unknown> }).body;
/** No database setting at all: the command must not need one. */
const SETTINGS = { DCR_SCOPES: 'openid,mcp:tools', DATABASE_PATH: '/nonexistent/dir/oauth-dcr.db' };

let dir: string;
let file: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcr-validate-'));
  file = join(dir, 'client.json');
  writeFileSync(file, JSON.stringify(remote));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI as a process, with `input` on its standard input. */
function cliWithStdin(args: string[], input: string, env: Record<string, string>) {
  const entry = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'packages/oauth-dcr/src/cli.ts')];
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [...entry, ...args],
      { env: { ...process.env, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

describe('oauth-dcr validate (spawned)', () => {
  it('exit 0 with --json: the result validate() gives under the same settings, and no database touched', async () => {
    const outcome = await cli(['validate', file, '--json'], SETTINGS);
    assert.equal(outcome.code, 0, JSON.stringify(outcome));
    const expected = await makeRegistration({ scopesSupported: ['openid', 'mcp:tools'] }).validate(remote);
    assert.deepEqual(JSON.parse(outcome.stdout), JSON.parse(JSON.stringify(expected)));
    // The settings were read: the requested scope is narrowed to the deployment's.
    assert.equal(JSON.parse(outcome.stdout).metadata.scope, 'openid');
  });

  it('exit 1 from stdin (-): the refusal as JSON on stdout, one line with the pointer on stderr', async () => {
    const body = JSON.stringify({ redirect_uris: ['https://app.example/cb', 'http://app.example/cb'] });
    const outcome = await cliWithStdin(['validate', '-', '--json'], body, SETTINGS);
    assert.equal(outcome.code, 1, JSON.stringify(outcome));
    const result = JSON.parse(outcome.stdout);
    assert.equal(result.valid, false);
    assert.equal(result.error.pointer, '/redirect_uris/1');
    assert.equal(result.error.error, 'invalid_redirect_uri');
    assert.match(outcome.stderr, /^oauth-dcr: invalid_redirect_uri at \/redirect_uris\/1: HTTPS required[^\n]*\n$/);
  });

  it('exit 2 for an unknown tier, in one line', async () => {
    assertOneLine(
      await cli(['validate', file, '--tier', 'friends'], SETTINGS),
      2,
      /^oauth-dcr: --tier: unknown tier "friends"/,
    );
  });
});

describe('oauth-dcr validate (in process)', () => {
  it('prints what a registration would answer, the secret, and each change with its reason', async () => {
    const { lines, error } = await command(['validate', file], {}, SETTINGS);
    assert.equal(error, undefined);
    assert.equal(lines[0], 'valid: a registration in tier anonymous would answer (client_id and credentials aside):');
    assert.ok(lines.includes('client secret: none (a public client or a key-based method)'));
    assert.ok(
      lines.includes(
        '  scope: "openid email profile" -> "openid": scope values this tier may not be granted, and repeats, were dropped (RFC 7591 §3.2.1)',
      ),
      lines.join('\n'),
    );
  });

  it("follows the deployment's settings: DCR_REQUIRE_HTTPS_REDIRECT_URIS=false admits an http redirect", async () => {
    writeFileSync(join(dir, 'http.json'), JSON.stringify({ redirect_uris: ['http://app.example/cb'] }));
    const strict = await command(['validate', join(dir, 'http.json')], {}, SETTINGS);
    assert.ok(strict.error instanceof CommandFailure);
    assert.equal(
      strict.error.message,
      'invalid_redirect_uri at /redirect_uris/0: HTTPS required for redirect URIs in production: http://app.example/cb',
    );
    const relaxed = await command(
      ['validate', join(dir, 'http.json')],
      {},
      { ...SETTINGS, DCR_REQUIRE_HTTPS_REDIRECT_URIS: 'false' },
    );
    assert.equal(relaxed.error, undefined, relaxed.lines.join('\n'));
  });

  it('--tier admin holds the metadata to the operator tier of clients create', async () => {
    writeFileSync(
      join(dir, 'service.json'),
      JSON.stringify({ grant_types: ['client_credentials'], response_types: [] }),
    );
    const anonymous = await command(['validate', join(dir, 'service.json')], {}, SETTINGS);
    assert.ok(anonymous.error instanceof CommandFailure);
    assert.match(anonymous.error.message, /^invalid_client_metadata at \/grant_types: /);
    const admin = await command(['validate', join(dir, 'service.json')], { tier: 'admin', json: true }, SETTINGS);
    assert.equal(admin.error, undefined);
    assert.equal(JSON.parse(admin.lines.join('\n')).tier, 'admin');
  });

  it('usage and setting errors: no file, two files, an unreadable file, a bad setting', async () => {
    assert.ok((await command(['validate'], {}, SETTINGS)).error instanceof UsageError);
    assert.ok((await command(['validate', file, file], {}, SETTINGS)).error instanceof UsageError);
    assert.ok((await command(['validate', join(dir, 'missing.json')], {}, SETTINGS)).error instanceof UsageError);
    const bad = await command(['validate', file], {}, { ...SETTINGS, DCR_CLIENT_SECRET_TTL: 'soon' });
    assert.ok(bad.error instanceof SettingError);
    assert.match(bad.error.message, /^DCR_CLIENT_SECRET_TTL /);
    const https = await command(['validate', file], {}, { ...SETTINGS, DCR_REQUIRE_HTTPS_REDIRECT_URIS: 'maybe' });
    assert.ok(https.error instanceof SettingError);
    assert.match(https.error.message, /^DCR_REQUIRE_HTTPS_REDIRECT_URIS must be true or false/);
  });
});

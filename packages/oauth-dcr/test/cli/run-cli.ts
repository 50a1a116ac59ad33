import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { runAdminCommand } from '../../src/admin/commands.js';
import type { AdminFlags } from '../../src/admin/command-input.js';

/** `oauth-dcr` from its sources, through tsx (by absolute URL, so it resolves from any directory). */
const CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'packages/oauth-dcr/src/cli.ts')];

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a process to its end, with the test's settings only. */
export function cli(args: string[], env: Record<string, string>): Promise<Finished> {
  const base = { ...process.env };
  for (const name of [
    'DATABASE_PATH',
    'DATABASE_URL',
    'DATABASE_SCHEMA',
    'DCR_REAP_NEVER_USED',
    'DCR_REAP_UNUSED',
    'DCR_AUDIT_RETENTION',
  ])
    delete base[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...CLI, ...args],
      { env: { ...base, USER: 'tester', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI and expects exit 0; resolves its standard output. */
export async function cliOk(args: string[], env: Record<string, string>): Promise<string> {
  const outcome = await cli(args, env);
  assert.equal(outcome.code, 0, JSON.stringify(outcome));
  return outcome.stdout;
}

/** A refusal: the exit code, one line on stderr matching `message`, nothing on stdout, no stack. */
export function assertOneLine(outcome: Finished, code: number, message: RegExp): void {
  const shown = JSON.stringify(outcome);
  assert.equal(outcome.code, code, shown);
  assert.equal(outcome.stdout, '', shown);
  const lines = outcome.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${outcome.stderr}`);
  assert.match(lines[0]!, message);
}

/**
 * The same commands in this process (no tsx start-up per command): what they print, or the error
 * they end with. For the behaviours the spawned cases do not need a process for.
 */
export async function command(
  positionals: string[],
  flags: AdminFlags,
  env: Record<string, string>,
): Promise<{ lines: string[]; error?: Error }> {
  const lines: string[] = [];
  const output = { out: (line: string) => lines.push(...line.split('\n')), err: (line: string) => lines.push(line) };
  try {
    await runAdminCommand({ positionals, flags, env: { USER: 'tester', ...env }, output });
    return { lines };
  } catch (error) {
    return { lines, error: error as Error };
  }
}

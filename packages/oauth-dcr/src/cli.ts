#!/usr/bin/env node
// oauth-dcr admin command line: parses arguments and hands them to src/admin/commands.ts.
import { parseArgs } from 'node:util';
import { CommandFailure, runAdminCommand, UsageError, USAGE, type Output } from './admin/commands.js';
import { maskSecrets, secretValues, SettingError } from './admin/settings.js';

// Whatever the commands print, the configured password never reaches the terminal (a driver's
// error text may quote a connection string).
const secrets = secretValues(process.env);
const output: Output = {
  out: (line) => process.stdout.write(`${maskSecrets(line, secrets)}\n`),
  err: (line) => process.stderr.write(`${maskSecrets(line, secrets)}\n`),
};

// `oauth-dcr clients list | head`: a reader that stops early is no error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        'database-path': { type: 'string' },
        'database-url': { type: 'string' },
        'database-schema': { type: 'string' },
        uses: { type: 'string' },
        expires: { type: 'string' },
        label: { type: 'string' },
        // clients create
        name: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'grant-type': { type: 'string', multiple: true },
        'auth-method': { type: 'string' },
        scope: { type: 'string' },
        right: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        // audit
        client: { type: 'string' },
        type: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
        // prune
        idle: { type: 'boolean' },
        audit: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        batch: { type: 'string' },
        'never-used': { type: 'string' },
        unused: { type: 'string' },
        retention: { type: 'string' },
        // validate
        tier: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // parseArgs quotes the offending argument, which may be --database-url=postgres://u:pw@...
    secrets.push(...secretValues({}, { 'database-url': process.argv.find((arg) => arg.includes('://')) ?? '' }));
    output.err(`oauth-dcr: ${(error as Error).message} (see oauth-dcr help)`);
    return 2;
  }
  const { help, ...flags } = parsed.values;
  if (help) {
    output.out(USAGE);
    return 0;
  }
  secrets.push(...secretValues({}, flags).filter((secret) => !secrets.includes(secret)));
  try {
    await runAdminCommand({ positionals: parsed.positionals, flags, env: process.env, output, stdin: process.stdin });
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof SettingError) {
      output.err(`oauth-dcr: ${error.message}`);
      return 2;
    }
    // An unknown client id, refused metadata: the command was understood but could not be done.
    if (error instanceof CommandFailure) {
      output.err(`oauth-dcr: ${error.message}`);
      return 1;
    }
    output.err(`oauth-dcr: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

main().then((code) => {
  if (code !== 0) process.exitCode = code;
});

#!/usr/bin/env node
// oauth-dcr command line: parses arguments and hands them to src/server/commands.ts.
import { parseArgs } from 'node:util';
import { ConfigError, runCommand, UsageError, USAGE, type Output } from './server/commands.js';

const output: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        issuer: { type: 'string' },
        'database-path': { type: 'string' },
        'database-url': { type: 'string' },
        'database-schema': { type: 'string' },
        store: { type: 'string' },
        'log-level': { type: 'string' },
        uses: { type: 'string' },
        expires: { type: 'string' },
        label: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    output.err(`oauth-dcr: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { help, ...flags } = parsed.values;
  if (help) {
    output.out(USAGE);
    return 0;
  }
  try {
    const server = await runCommand({ positionals: parsed.positionals, flags, env: process.env, output });
    if (server) {
      const stop = (signal: string) => {
        output.err(`oauth-dcr: ${signal}, shutting down`);
        server.close().then(() => process.exit(0), (error: unknown) => {
          output.err(`oauth-dcr: shutdown failed: ${String(error)}`);
          process.exit(1);
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      output.err(`oauth-dcr: ${error.message}`);
      return 2;
    }
    output.err(`oauth-dcr: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    return 1;
  }
}

main().then((code) => {
  if (code !== 0) process.exitCode = code;
});

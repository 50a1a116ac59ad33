#!/usr/bin/env node
// oauth-dcr-server command line (the reference server): parses arguments and hands them to
// src/commands.ts. The library's admin commands are its own bin, oauth-dcr.
import { parseArgs } from 'node:util';
import { ConfigError, runCommand, UsageError, USAGE, type Output } from './commands.js';
import { maskSecrets } from 'oauth-dcr/admin';
import { secretValues } from './config.js';
import type { RunningServer } from './server.js';

// Whatever the commands print, the configured passwords never reach the terminal (a driver's
// error text may quote a connection string).
const secrets = secretValues(process.env);
const output: Output = {
  out: (line) => process.stdout.write(`${maskSecrets(line, secrets)}\n`),
  err: (line) => process.stderr.write(`${maskSecrets(line, secrets)}\n`),
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
        idle: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    output.err(`oauth-dcr-server: ${(error as Error).message} (see oauth-dcr-server help)`);
    return 2;
  }
  const { help, idle, 'dry-run': dryRun, ...flags } = parsed.values;
  if (help) {
    output.out(USAGE);
    return 0;
  }
  secrets.push(...secretValues(process.env, flags).filter((secret) => !secrets.includes(secret)));
  // SIGTERM is how Docker, systemd and `npm start` (which forwards it) stop the server: stop
  // accepting, let requests in flight finish, close the database, exit 0. A second signal means
  // "now". The handlers are in place before the server listens, so a signal sent as soon as the
  // ready line shows is never met by the default action (death with no clean-up).
  const shutdown = parsed.positionals[0] === 'serve' ? gracefulShutdown(output) : undefined;
  try {
    const server = await runCommand({
      positionals: parsed.positionals,
      flags,
      switches: { ...(idle ? { idle } : {}), ...(dryRun ? { dryRun } : {}) },
      env: process.env,
      output,
    });
    if (server) shutdown?.serving(server);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      output.err(`oauth-dcr-server: ${error.message}`);
      return 2;
    }
    output.err(`oauth-dcr-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

main().then((code) => {
  if (code !== 0) process.exitCode = code;
});

/**
 * Stops the server on SIGINT or SIGTERM: gracefully once it is serving; at once while it is still
 * starting (nothing is served yet, and a start that hangs on an unreachable database must still
 * end when the process manager asks).
 */
function gracefulShutdown(output: { err(line: string): void }): { serving(server: RunningServer): void } {
  let server: RunningServer | undefined;
  let requested: NodeJS.Signals | undefined;
  const close = (running: RunningServer) =>
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        output.err(`oauth-dcr-server: shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  const stop = (signal: NodeJS.Signals) => {
    if (requested) {
      output.err(`oauth-dcr-server: ${signal} again, exiting at once`);
      process.exit(1);
    }
    requested = signal;
    if (!server) {
      output.err(`oauth-dcr-server: ${signal} while starting, exiting`);
      process.exit(0);
    }
    output.err(`oauth-dcr-server: ${signal}, shutting down`);
    close(server);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    serving(running) {
      server = running;
    },
  };
}

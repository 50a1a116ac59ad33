import { ConfigError, issuerSetting, loadConfig, type ConfigFlags, type SettingSource } from './config.js';
import { openConfiguredStorage, startServer, type RunningServer } from './server.js';
import type { ServerStorage } from './storage/open-storage.js';

/**
 * The `oauth-dcr-server` subcommands: the reference server's own (serve, and migrate and prune for
 * its tables). The admin commands on the library's store (iat, clients) are the library's
 * `oauth-dcr` command, which never creates this server's tables. src/cli.ts only parses the
 * command line; everything a command does is here, writing through `Output` so it can be tested
 * without a terminal.
 */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export interface CommandInput {
  /** e.g. ['serve'] */
  positionals: string[];
  flags: ConfigFlags;
  env: NodeJS.ProcessEnv;
  output: Output;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: oauth-dcr-server <command> [options]

Commands:
  serve                       run the reference authorization server (creates its tables at start)
  migrate                     create or migrate the server's database at DATABASE_PATH or DATABASE_URL
                              (oauth-dcr's dcr_* tables and the server's ref_* tables)
  prune                       delete expired authorization codes and tokens (the server does it
                              every few minutes while it runs; this never creates a database)
  help                        this text
Initial access tokens and the client list are oauth-dcr's admin commands, on the library's
tables alone: npx oauth-dcr iat create|list|revoke, npx oauth-dcr clients list

Options (or environment variables):
  --port (PORT, default 3000)            --host (HOST, default localhost)
  --issuer (ISSUER, default derived from HOST and PORT; a wildcard HOST gives localhost)
  --database-path (DATABASE_PATH, default ./oauth-dcr.db, SQLite)
  --database-url (DATABASE_URL, PostgreSQL)   --database-schema (DATABASE_SCHEMA)
  --store memory (DCR_STORE)             --log-level (LOG_LEVEL, default info)
Environment only: DCR_DEMO_USER=name:password, DCR_ALLOWED_GRANT_TYPES, DCR_OPEN_REGISTRATION,
  DCR_SCOPES, DCR_REQUIRE_HTTPS_REDIRECT_URIS, DCR_CLIENT_SECRET_TTL, DCR_PERSIST_AUDIT,
  DCR_CODE_TTL, DCR_ACCESS_TOKEN_TTL, DCR_REFRESH_TOKEN_TTL,
  DCR_REQUEST_TIMEOUT (default 30s), DCR_HEADERS_TIMEOUT (default 10s)`;

/** Runs a command; resolves once it is done (for `serve`: once the server is listening). */
export async function runCommand(input: CommandInput): Promise<RunningServer | void> {
  const [command, sub] = input.positionals;
  switch (command) {
    case 'serve':
      return serve(input);
    case 'migrate':
      return migrate(input);
    case 'prune':
      return withStorage(input, async (storage) => {
        const pruned = await storage.tokens.pruneExpired(Math.floor(Date.now() / 1000));
        input.output.out(`deleted ${pruned} expired codes and tokens`);
      });
    case 'iat':
    case 'clients':
      // They moved to the library, whose command works on its own tables alone: say where.
      throw new UsageError(
        `${command} is an oauth-dcr admin command: npx oauth-dcr ${[command, sub].filter(Boolean).join(' ')} (same DATABASE_* settings)`,
      );
    case undefined:
    case 'help':
      input.output.out(USAGE);
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (see oauth-dcr-server help)`);
  }
}

/**
 * The banner is printed once the server is up, so that a refused setting ends in its one line,
 * and so that it shows the issuer really in use (it depends on the bound port).
 */
async function serve(input: CommandInput): Promise<RunningServer> {
  const loaded = loadConfig(input.env, input.flags);
  const { output } = input;
  const server = await startServer(loaded.config);
  output.out('oauth-dcr reference server');
  // ISSUER next to the HOST and PORT it is derived from.
  const settings = loaded.settings.filter((setting) => setting.name !== 'ISSUER');
  settings.splice(settings.findIndex((setting) => setting.name === 'HOST') + 1, 0, issuerSetting(loaded, server.port));
  printSettings(settings, output);
  const { host } = loaded.config;
  output.out(`  listening on: ${host.includes(':') ? `[${host}]` : host}:${server.port}`);
  output.out(`  storage: ${server.storage.description}`);
  const demo = server.demoUser;
  if (demo.kind === 'created') {
    output.out(
      `  demo user created: username "${demo.username}", password "${demo.password}" (shown once; set DCR_DEMO_USER=name:password to choose)`,
    );
  } else if (demo.kind === 'configured') {
    output.out(`  demo user: "${demo.username}" (from DCR_DEMO_USER)`);
  } else {
    output.out(`  users: ${demo.count} (set DCR_DEMO_USER=name:password to add or reset one)`);
  }
  output.out(`  metadata: ${server.url}/.well-known/oauth-authorization-server`);
  output.out(`  register: ${server.url}/register`);
  output.out(`oauth-dcr listening on ${server.url}`);
  return server;
}

async function migrate(input: CommandInput): Promise<void> {
  const { config } = loadConfig(input.env, input.flags);
  if (config.storage.kind === 'memory') throw new UsageError('DCR_STORE=memory has nothing to migrate');
  let applied: string[] = [];
  const storage = await openConfiguredStorage(config.storage, {
    migrate: false,
    onMigrated: (names) => (applied = names),
  });
  try {
    input.output.out(
      applied.length > 0
        ? `applied migrations to ${storage.description}: ${applied.join(', ')}`
        : `${storage.description} is up to date`,
    );
  } finally {
    await storage.close();
  }
}

async function withStorage(input: CommandInput, work: (storage: ServerStorage) => Promise<void>): Promise<void> {
  const { config } = loadConfig(input.env, input.flags);
  if (config.storage.kind === 'memory') {
    throw new UsageError('this command needs a database: DCR_STORE=memory lives inside a running server');
  }
  // Only serve and migrate may create a database: here a missing one is a mistyped setting.
  const storage = await openConfiguredStorage(config.storage, { mustExist: true });
  try {
    await work(storage);
  } finally {
    await storage.close();
  }
}

function printSettings(settings: SettingSource[], output: Output): void {
  const width = Math.max(...settings.map((s) => s.name.length));
  for (const setting of settings) {
    output.out(`  ${setting.name.padEnd(width)}  ${setting.value}  (${setting.note ?? setting.source})`);
  }
}

export { ConfigError };

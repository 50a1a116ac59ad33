import { createRegistration } from 'oauth-dcr';
import type { ClientRecord, InitialAccessTokenRecord } from 'oauth-dcr';
import { ConfigError, issuerSetting, loadConfig, parseDuration, type ConfigFlags, type SettingSource } from './config.js';
import { openConfiguredStorage, startServer, type RunningServer } from './server.js';
import type { ServerStorage } from './storage/open-storage.js';

/**
 * The `oauth-dcr` subcommands. src/cli.ts only parses the command line; everything a command
 * does is here, writing through `Output` so it can be tested without a terminal.
 */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export interface CommandInput {
  /** e.g. ['iat', 'revoke', '<id>'] */
  positionals: string[];
  flags: ConfigFlags & { uses?: string; expires?: string; label?: string };
  env: NodeJS.ProcessEnv;
  output: Output;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: oauth-dcr <command> [options]

Commands:
  serve                       run the reference authorization server
  migrate                     create or migrate the database at DATABASE_PATH or DATABASE_URL
  iat create [--uses N] [--expires 7d] [--label text]
                              create an initial access token (printed once)
  iat list                    list initial access tokens
  iat revoke <id>             revoke an initial access token
  clients list                list registered clients
  prune                       delete expired authorization codes and tokens
  (iat, clients and prune work on an existing database only: they never create one)

Options (or environment variables):
  --port (PORT, default 3000)            --host (HOST, default localhost)
  --issuer (ISSUER, default derived from HOST and PORT; a wildcard HOST gives localhost)
  --database-path (DATABASE_PATH, default ./oauth-dcr.db, SQLite)
  --database-url (DATABASE_URL, PostgreSQL)   --store memory (DCR_STORE)
  --log-level (LOG_LEVEL, default info)
Environment only: DCR_DEMO_USER=name:password, DCR_ALLOWED_GRANT_TYPES, DCR_OPEN_REGISTRATION,
  DCR_SCOPES, DCR_REQUIRE_HTTPS_REDIRECT_URIS, DCR_CLIENT_SECRET_TTL, DCR_PERSIST_AUDIT,
  DCR_CODE_TTL, DCR_ACCESS_TOKEN_TTL, DCR_REFRESH_TOKEN_TTL,
  DCR_REQUEST_TIMEOUT (default 30s), DCR_HEADERS_TIMEOUT (default 10s)`;

/** Runs a command; resolves once it is done (for `serve`: once the server is listening). */
export async function runCommand(input: CommandInput): Promise<RunningServer | void> {
  const [command, sub, ...rest] = input.positionals;
  switch (command) {
    case 'serve':
      return serve(input);
    case 'migrate':
      return migrate(input);
    case 'iat':
      if (sub === 'create') return withStorage(input, (storage) => createInitialAccessToken(storage, input));
      if (sub === 'list') return withStorage(input, (storage) => listInitialAccessTokens(storage, input.output));
      if (sub === 'revoke') return withStorage(input, (storage) => revokeInitialAccessToken(storage, rest[0], input.output));
      throw new UsageError('iat needs create, list or revoke');
    case 'clients':
      if (sub === 'list') return withStorage(input, (storage) => listClients(storage, input.output));
      throw new UsageError('clients needs list');
    case 'prune':
      return withStorage(input, async (storage) => {
        const pruned = await storage.tokens.pruneExpired(Math.floor(Date.now() / 1000));
        input.output.out(`deleted ${pruned} expired codes and tokens`);
      });
    case undefined:
    case 'help':
      input.output.out(USAGE);
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
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
    output.out(`  demo user created: username "${demo.username}", password "${demo.password}" (shown once; set DCR_DEMO_USER=name:password to choose)`);
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
  const storage = await openConfiguredStorage(config.storage, { migrate: false, onMigrated: (names) => (applied = names) });
  try {
    input.output.out(applied.length > 0
      ? `applied migrations to ${storage.description}: ${applied.join(', ')}`
      : `${storage.description} is up to date`);
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

async function createInitialAccessToken(storage: ServerStorage, input: CommandInput): Promise<void> {
  const { uses, expires, label } = input.flags;
  let usesCount: number | null = null;
  if (uses !== undefined) {
    usesCount = Number(uses);
    if (!/^\d+$/.test(uses) || usesCount < 1) throw new UsageError('--uses must be a positive whole number');
  }
  let expiresIn: number | null = null;
  if (expires !== undefined) {
    expiresIn = parseDuration(expires) ?? null;
    if (!expiresIn) throw new UsageError('--expires must be a duration like 3600, 12h or 7d');
  }
  const admin = createRegistration({ store: storage.clients }).initialAccessTokens;
  const { token, record } = await admin.create({ uses: usesCount, expiresIn, ...(label !== undefined ? { label } : {}) });
  input.output.out(`initial access token (shown once, keep it secret):\n  ${token}`);
  input.output.out(`id: ${record.id}  uses: ${record.usesRemaining ?? 'unlimited'}  expires: ${formatTime(record.expiresAt)}${record.label ? `  label: ${record.label}` : ''}`);
  input.output.out('present it as "Authorization: Bearer <token>" on POST /register');
}

async function listInitialAccessTokens(storage: ServerStorage, output: Output): Promise<void> {
  const tokens = await createRegistration({ store: storage.clients }).initialAccessTokens.list();
  if (tokens.length === 0) {
    output.out('no initial access tokens');
    return;
  }
  printTable(output, ['ID', 'LABEL', 'USES LEFT', 'EXPIRES', 'STATUS'], tokens.map((token) => [
    token.id,
    token.label ?? '',
    token.usesRemaining === null ? 'unlimited' : String(token.usesRemaining),
    formatTime(token.expiresAt),
    tokenStatus(token),
  ]));
}

async function revokeInitialAccessToken(storage: ServerStorage, id: string | undefined, output: Output): Promise<void> {
  if (!id) throw new UsageError('iat revoke needs the token id (see oauth-dcr iat list)');
  const revoked = await createRegistration({ store: storage.clients }).initialAccessTokens.revoke(id);
  if (!revoked) throw new UsageError(`no live initial access token with id ${id}`);
  output.out(`revoked ${id}`);
}

async function listClients(storage: ServerStorage, output: Output): Promise<void> {
  const rows: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const page: ClientRecord[] = await storage.clients.listClients({ limit: 500, ...(after ? { after } : {}) });
    for (const client of page) {
      rows.push([
        client.clientId,
        typeof client.metadata.client_name === 'string' ? client.metadata.client_name : '',
        client.registeredVia,
        formatTime(client.createdAt),
      ]);
    }
    if (page.length < 500) break;
    after = page[page.length - 1]!.clientId;
  }
  if (rows.length === 0) {
    output.out('no clients registered');
    return;
  }
  printTable(output, ['CLIENT ID', 'NAME', 'VIA', 'CREATED'], rows);
}

function printSettings(settings: SettingSource[], output: Output): void {
  const width = Math.max(...settings.map((s) => s.name.length));
  for (const setting of settings) {
    output.out(`  ${setting.name.padEnd(width)}  ${setting.value}  (${setting.note ?? setting.source})`);
  }
}

function tokenStatus(token: InitialAccessTokenRecord): string {
  if (token.revokedAt !== undefined) return 'revoked';
  if (token.expiresAt !== null && token.expiresAt <= Math.floor(Date.now() / 1000)) return 'expired';
  if (token.usesRemaining === 0) return 'used up';
  return 'active';
}

function formatTime(epochSeconds: number | null): string {
  return epochSeconds === null ? 'never' : new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

function printTable(output: Output, headers: string[], rows: string[][]): void {
  // Names come from clients: control characters must not reach the terminal.
  const clean = (cell: string) => cell.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const all = [headers, ...rows.map((row) => row.map(clean))];
  const widths = headers.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  for (const row of all) output.out(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

export { ConfigError };

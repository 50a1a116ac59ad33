import { createRegistration } from '../protocol/create-registration.js';
import type { CreateInitialAccessTokenOptions } from '../protocol/initial-access-tokens.js';
import type { ClientRecord, ClientStore, InitialAccessTokenRecord } from '../store/types.js';
import { openAdminStore, type AdminStore } from './open-store.js';
import { loadAdminStorage, parseDuration, type StorageFlags } from './settings.js';

/**
 * The `oauth-dcr` admin commands, on the library's store alone: they read and change oauth-dcr's
 * own tables, never create anyone else's, and never run a server (that is the reference server's
 * `oauth-dcr-server serve`). src/cli.ts only parses the command line; everything a command does is
 * here, writing through `Output`, so it can be tested without a terminal.
 */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export interface AdminCommandInput {
  /** e.g. ['iat', 'revoke', '<id>'] */
  positionals: string[];
  flags: StorageFlags & { uses?: string; expires?: string; label?: string };
  env: NodeJS.ProcessEnv;
  output: Output;
}

/** The command line itself is wrong (unknown command, bad option value): exit code 2, like a bad setting. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: oauth-dcr <command> [options]

Administers oauth-dcr's store (its dcr_* tables only) in SQLite or PostgreSQL.

Commands:
  migrate                     create or migrate oauth-dcr's tables at DATABASE_PATH or DATABASE_URL
  iat create [--uses N] [--expires 7d] [--label text]
                              create an initial access token (printed once)
  iat list                    list initial access tokens
  iat revoke <id>             revoke an initial access token
  clients list                list registered clients
  help                        this text
  (iat and clients work on an existing database only: they never create one)

Options (or environment variables):
  --database-path (DATABASE_PATH, default ./oauth-dcr.db, SQLite; needs better-sqlite3)
  --database-url (DATABASE_URL, PostgreSQL; needs pg)
  --database-schema (DATABASE_SCHEMA, PostgreSQL schema, default the connection's search_path)

The reference authorization server is another package: npx oauth-dcr-server serve`;

/** Runs one admin command to its end. */
export async function runAdminCommand(input: AdminCommandInput): Promise<void> {
  const [command, sub, ...rest] = input.positionals;
  switch (command) {
    case 'migrate':
      if (sub !== undefined) throw new UsageError(`migrate takes no argument, got ${JSON.stringify(sub)}`);
      return migrate(input);
    case 'iat':
      if (sub === 'create') {
        // A wrong option is refused before any database is opened.
        const options = initialAccessTokenOptions(input.flags);
        return withStore(input, (store) => createInitialAccessToken(store.clients, options, input.output));
      }
      if (sub === 'list') return withStore(input, (store) => listInitialAccessTokens(store.clients, input.output));
      if (sub === 'revoke')
        return withStore(input, (store) => revokeInitialAccessToken(store.clients, rest[0], input.output));
      throw new UsageError('iat needs create, list or revoke');
    case 'clients':
      if (sub === 'list') return withStore(input, (store) => listClients(store.clients, input.output));
      throw new UsageError('clients needs list');
    case undefined:
    case 'help':
      input.output.out(USAGE);
      return;
    case 'serve':
    case 'prune':
    case 'keys':
      // These belong to the reference server: serve runs it, prune deletes its codes and tokens,
      // keys rotates the access-token signing keys it keeps in its own tables.
      throw new UsageError(
        `${command} is a command of the reference server: npx oauth-dcr-server ${[command, sub].filter(Boolean).join(' ')}`,
      );
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (see oauth-dcr help)`);
  }
}

/** The one command that may create a database: it applies oauth-dcr's migrations, and nothing else. */
async function migrate(input: AdminCommandInput): Promise<void> {
  const storage = loadAdminStorage(input.env, input.flags);
  const store = await openAdminStore(storage, { mustExist: false });
  try {
    const applied = await store.migrate();
    input.output.out(
      applied.length > 0
        ? `applied migrations to ${store.description}: ${applied.join(', ')}`
        : `${store.description} is up to date`,
    );
  } finally {
    await store.close();
  }
}

async function withStore(input: AdminCommandInput, work: (store: AdminStore) => Promise<void>): Promise<void> {
  const storage = loadAdminStorage(input.env, input.flags);
  // Only migrate may create a database: here a missing one is a mistyped setting.
  const store = await openAdminStore(storage, { mustExist: true });
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

function initialAccessTokenOptions(flags: AdminCommandInput['flags']): CreateInitialAccessTokenOptions {
  const { uses, expires, label } = flags;
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
  return { uses: usesCount, expiresIn, ...(label !== undefined ? { label } : {}) };
}

async function createInitialAccessToken(
  store: ClientStore,
  options: CreateInitialAccessTokenOptions,
  output: Output,
): Promise<void> {
  const { token, record } = await createRegistration({ store }).initialAccessTokens.create(options);
  output.out(`initial access token (shown once, keep it secret):\n  ${token}`);
  output.out(
    `id: ${record.id}  uses: ${record.usesRemaining ?? 'unlimited'}  expires: ${formatTime(record.expiresAt)}${record.label ? `  label: ${record.label}` : ''}`,
  );
  output.out('present it as "Authorization: Bearer <token>" on POST /register');
}

async function listInitialAccessTokens(store: ClientStore, output: Output): Promise<void> {
  const tokens = await createRegistration({ store }).initialAccessTokens.list();
  if (tokens.length === 0) {
    output.out('no initial access tokens');
    return;
  }
  printTable(
    output,
    ['ID', 'LABEL', 'USES LEFT', 'EXPIRES', 'STATUS'],
    tokens.map((token) => [
      token.id,
      token.label ?? '',
      token.usesRemaining === null ? 'unlimited' : String(token.usesRemaining),
      formatTime(token.expiresAt),
      tokenStatus(token),
    ]),
  );
}

async function revokeInitialAccessToken(store: ClientStore, id: string | undefined, output: Output): Promise<void> {
  if (!id) throw new UsageError('iat revoke needs the token id (see oauth-dcr iat list)');
  const revoked = await createRegistration({ store }).initialAccessTokens.revoke(id);
  if (!revoked) throw new UsageError(`no live initial access token with id ${id}`);
  output.out(`revoked ${id}`);
}

/** Pages through the clients: a deployment may have more than one query should return. */
async function listClients(store: ClientStore, output: Output): Promise<void> {
  const pageSize = 500;
  const rows: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const page: ClientRecord[] = await store.listClients({ limit: pageSize, ...(after ? { after } : {}) });
    for (const client of page) {
      rows.push([
        client.clientId,
        typeof client.metadata.client_name === 'string' ? client.metadata.client_name : '',
        client.registeredVia,
        formatTime(client.createdAt),
      ]);
    }
    if (page.length < pageSize) break;
    after = page[page.length - 1]!.clientId;
  }
  if (rows.length === 0) {
    output.out('no clients registered');
    return;
  }
  printTable(output, ['CLIENT ID', 'NAME', 'VIA', 'CREATED'], rows);
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
  for (const row of all)
    output.out(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

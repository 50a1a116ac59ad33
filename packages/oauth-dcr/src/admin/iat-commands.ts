import { createRegistration } from '../protocol/create-registration.js';
import type { CreateInitialAccessTokenOptions } from '../protocol/initial-access-tokens.js';
import type { ClientStore, InitialAccessTokenRecord } from '../store/types.js';
import { type AdminCommandInput, type AdminFlags, type Output, UsageError, withStore } from './command-input.js';
import { parseDuration } from './settings.js';
import { formatTime, printTable } from './table.js';

/**
 * `oauth-dcr iat create|list|revoke`: initial access tokens (RFC 7591 §3), which admit clients
 * when open registration is off.
 */
export async function runInitialAccessTokenCommand(input: AdminCommandInput, sub: string | undefined, id?: string) {
  if (sub === 'create') {
    // A wrong option is refused before any database is opened.
    const options = initialAccessTokenOptions(input.flags);
    return withStore(input, (store) => createInitialAccessToken(store.clients, options, input.output));
  }
  if (sub === 'list') return withStore(input, (store) => listInitialAccessTokens(store.clients, input.output));
  if (sub === 'revoke') return withStore(input, (store) => revokeInitialAccessToken(store.clients, id, input.output));
  throw new UsageError('iat needs create, list or revoke');
}

function initialAccessTokenOptions(flags: AdminFlags): CreateInitialAccessTokenOptions {
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

function tokenStatus(token: InitialAccessTokenRecord): string {
  if (token.revokedAt !== undefined) return 'revoked';
  if (token.expiresAt !== null && token.expiresAt <= Math.floor(Date.now() / 1000)) return 'expired';
  if (token.usesRemaining === 0) return 'used up';
  return 'active';
}

import { openAdminStore, type AdminStore } from './open-store.js';
import { loadAdminStorage, type StorageFlags } from './settings.js';

/** Where the admin commands write: the terminal in src/cli.ts, an array in tests. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** The flags src/cli.ts parses, as parseArgs gives them. */
export interface AdminFlags extends StorageFlags {
  uses?: string;
  expires?: string;
  label?: string;
  name?: string;
  'redirect-uri'?: string[];
  'grant-type'?: string[];
  'auth-method'?: string;
  scope?: string;
  right?: string[];
  json?: boolean;
  client?: string;
  type?: string;
  since?: string;
  limit?: string;
  idle?: boolean;
  audit?: boolean;
  'dry-run'?: boolean;
  batch?: string;
  'never-used'?: string;
  unused?: string;
  retention?: string;
  tier?: string;
}

export interface AdminCommandInput {
  /** e.g. ['iat', 'revoke', '<id>'] */
  positionals: string[];
  flags: AdminFlags;
  env: NodeJS.ProcessEnv;
  output: Output;
  /** The standard input, for a command reading `-` (validate). */
  stdin?: AsyncIterable<Uint8Array | string>;
}

/** The command line itself is wrong (unknown command, bad option value): exit code 2, like a bad setting. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The command was right but could not be done (an unknown client id, metadata the registration
 * rules refuse): exit code 1, with a one-line message and no stack.
 */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
}

/** Opens the configured store, which must exist, runs `work` on it, and closes it. */
export async function withStore(input: AdminCommandInput, work: (store: AdminStore) => Promise<void>): Promise<void> {
  const storage = loadAdminStorage(input.env, input.flags);
  // Only migrate may create a database: here a missing one is a mistyped setting.
  const store = await openAdminStore(storage, { mustExist: true });
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

/** Who the audit trail names for a change made from the command line. */
export function commandLineActor(env: NodeJS.ProcessEnv): string {
  const user = env.USER ?? env.USERNAME ?? env.LOGNAME;
  return user ? `cli:${user}` : 'cli';
}

/** A whole number from 1 to `max`, or a UsageError naming the flag. */
export function positiveCount(flag: string, value: string | undefined, fallback: number, max = 100_000): number {
  if (value === undefined) return fallback;
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > max)
    throw new UsageError(`${flag} must be a whole number from 1 to ${max}`);
  return count;
}

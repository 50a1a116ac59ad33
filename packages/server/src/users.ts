import { generateDemoPassword, hashPassword, UNKNOWN_USER_HASH, verifyPassword } from './passwords.js';
import type { UserRecord, UserStore } from './storage/records.js';

/** The resource owner as the rest of the server sees it: never the password hash. */
export interface User {
  id: string;
  username: string;
}

export const DEFAULT_DEMO_USERNAME = 'demo';

/** Checks a login. Unknown users cost the same scrypt run as known ones, so timing tells nothing. */
export async function authenticateUser(users: UserStore, username: string, password: string): Promise<User | null> {
  const record = username.length > 0 && username.length <= 200 ? await users.findUserByName(username) : null;
  const matches = await verifyPassword(password, record?.passwordHash ?? UNKNOWN_USER_HASH);
  return record && matches ? toUser(record) : null;
}

export async function findUser(users: UserStore, id: string): Promise<User | null> {
  const record = await users.findUserById(id);
  return record ? toUser(record) : null;
}

export type DemoUserOutcome =
  | { kind: 'configured'; username: string }
  | { kind: 'created'; username: string; password: string }
  | { kind: 'existing'; count: number };

/**
 * Makes sure someone can log in. DCR_DEMO_USER=name:password creates that user or resets its
 * password. Otherwise a fresh database (no users) gets a `demo` user with a random password,
 * which the caller prints once.
 */
export async function ensureDemoUser(
  users: UserStore,
  configured: { username: string; password: string } | undefined,
  now: number,
): Promise<DemoUserOutcome> {
  if (configured) {
    await users.upsertUser(configured.username, await hashPassword(configured.password), now);
    return { kind: 'configured', username: configured.username };
  }
  const count = await users.countUsers();
  if (count > 0) return { kind: 'existing', count };
  const password = generateDemoPassword();
  await users.upsertUser(DEFAULT_DEMO_USERNAME, await hashPassword(password), now);
  return { kind: 'created', username: DEFAULT_DEMO_USERNAME, password };
}

function toUser(record: UserRecord): User {
  return { id: record.id, username: record.username };
}

/**
 * Settings of the `oauth-dcr` admin command line: where the library's store is, read from the
 * environment and from flags (flags win). Checked before anything is opened, so a bad setting ends
 * in one line naming it and leaves nothing on disk.
 *
 * Only the store's location is read here: the admin commands work on the library's tables alone,
 * and know nothing of a server that may use the same database.
 */

import { REGISTRATION_TIERS, type RegistrationVia } from '../store/types.js';

/**
 * Where oauth-dcr's database is: a SQLite file (DATABASE_PATH), or a PostgreSQL server
 * (DATABASE_URL, and DATABASE_SCHEMA when the tables are not in the default schema).
 */
export type AdminStorage = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema?: string };

/** Flags as parsed from the command line; names as the environment's, lower-case with dashes. */
export type StorageFlags = Partial<Record<'database-path' | 'database-url' | 'database-schema', string>>;

/**
 * A setting's value cannot be used. Its message is one line that names the setting (DATABASE_PATH,
 * DATABASE_URL, ...) and never quotes a password: print it as it is, and exit without a stack.
 */
export class SettingError extends Error {
  override readonly name = 'SettingError';
}

export const DEFAULT_DATABASE_PATH = './oauth-dcr.db';

export function loadAdminStorage(env: NodeJS.ProcessEnv, flags: StorageFlags = {}): AdminStorage {
  // An empty variable is as good as unset: `DATABASE_URL= oauth-dcr ...` must not mean "postgres".
  const read = (name: string, flag: keyof StorageFlags): string | undefined =>
    flags[flag] ?? (env[name] === '' ? undefined : env[name]);
  const url = read('DATABASE_URL', 'database-url');
  const path = read('DATABASE_PATH', 'database-path');
  const schema = read('DATABASE_SCHEMA', 'database-schema');
  if (url !== undefined) {
    // Both set would leave one silently unused: an admin command changing the wrong database.
    if (path !== undefined)
      throw new SettingError('DATABASE_PATH and DATABASE_URL are both set: set one (SQLite or PostgreSQL)');
    checkDatabaseUrl(url);
    if (schema === '') throw new SettingError('DATABASE_SCHEMA must not be empty');
    return { kind: 'postgres', url, ...(schema ? { schema } : {}) };
  }
  if (schema !== undefined) throw new SettingError('DATABASE_SCHEMA is a PostgreSQL setting: it needs DATABASE_URL');
  if (path === '') throw new SettingError('DATABASE_PATH must not be empty');
  return { kind: 'sqlite', path: path ?? DEFAULT_DATABASE_PATH };
}

/** For messages: where the store is, with no password. */
export function describeStorage(storage: AdminStorage): string {
  return storage.kind === 'sqlite'
    ? `SQLite ${storage.path}`
    : `PostgreSQL ${maskUrlPassword(storage.url)}${storage.schema ? ` (schema ${storage.schema})` : ''}`;
}

/** Checked before any connection is tried, and never quoted back: it may hold a password. */
function checkDatabaseUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingError('DATABASE_URL must be a URL like postgres://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new SettingError(`DATABASE_URL must start with postgres:// or postgresql://, got ${url.protocol}//`);
  }
}

/**
 * A connection string without its password (replaced by ***), fit for a message, a banner or a
 * log line. Returned as it is when it has no password; *** alone when it is not a URL.
 */
export function maskUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL: nothing tells where a password would be, so show none of it.
    return '***';
  }
}

/**
 * The database password among the settings (DATABASE_URL from the flags and from the
 * environment), as written and percent-decoded, for `maskSecrets`: a driver's error message may
 * quote the connection string. Values shorter than 4 characters are left out: they would mask
 * ordinary words.
 */
export function secretValues(env: NodeJS.ProcessEnv, flags: StorageFlags = {}): string[] {
  const secrets: string[] = [];
  for (const databaseUrl of [flags['database-url'], env.DATABASE_URL]) {
    if (!databaseUrl) continue;
    try {
      const password = new URL(databaseUrl).password;
      if (password) secrets.push(password, decodeURIComponentSafe(password));
    } catch {
      // An unparseable DATABASE_URL is refused without being quoted.
    }
  }
  // Very short values would mask ordinary words all over the output.
  return [...new Set(secrets)].filter((secret) => secret.length >= 4);
}

/**
 * `text` with every secret (as written, and as JSON would escape it) replaced by ***: for every
 * line a command line prints, so a password quoted in an error never reaches the terminal.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      if (masked.includes(form)) masked = masked.split(form).join('***');
    }
  }
  return masked;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "300", "15m", "7d" -> seconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+)\s*([smhdw]?)$/i.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS[(match[2] || 's').toLowerCase()]!;
}

/**
 * The reaper's settings on the command line, in the reference server's syntax so one environment
 * serves both: DCR_REAP_NEVER_USED / DCR_REAP_UNUSED (or --never-used / --unused, which win) as
 * `tier=duration[,tier=duration]`, `off` for a duration turning that rule off. A bare duration
 * means the `anonymous` tier. Unset tiers keep the library's defaults.
 */
export function loadIdleRules(
  env: NodeJS.ProcessEnv,
  flags: { 'never-used'?: string; unused?: string },
): Partial<Record<IdleTier, { neverUsedWithin?: number | false; unusedFor?: number | false }>> {
  const rules: Partial<Record<IdleTier, { neverUsedWithin?: number | false; unusedFor?: number | false }>> = {};
  const settings = [
    ['DCR_REAP_NEVER_USED', '--never-used', flags['never-used'], 'neverUsedWithin'],
    ['DCR_REAP_UNUSED', '--unused', flags.unused, 'unusedFor'],
  ] as const;
  for (const [variable, flag, flagValue, field] of settings) {
    const value = flagValue ?? (env[variable] === '' ? undefined : env[variable]);
    if (value === undefined) continue;
    const name = flagValue !== undefined ? flag : variable;
    for (const entry of value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const equals = entry.indexOf('=');
      const tier = (equals < 0 ? 'anonymous' : entry.slice(0, equals).trim()) as IdleTier;
      const duration = (equals < 0 ? entry : entry.slice(equals + 1)).trim();
      if (!IDLE_TIERS.includes(tier))
        throw new SettingError(`${name}: unknown tier ${JSON.stringify(tier)} (known: ${IDLE_TIERS.join(', ')})`);
      const rule = rules[tier] ?? {};
      rules[tier] = rule;
      rule[field] = duration === 'off' ? false : atLeastAnHour(name, duration);
    }
  }
  return rules;
}

/** DCR_AUDIT_RETENTION (or --retention): how long audit events are kept; 0 keeps them forever. Default 90d. */
export function loadAuditRetention(env: NodeJS.ProcessEnv, flags: { retention?: string }): number | undefined {
  const value = flags.retention ?? (env.DCR_AUDIT_RETENTION === '' ? undefined : env.DCR_AUDIT_RETENTION);
  if (value === undefined) return undefined;
  const name = flags.retention !== undefined ? '--retention' : 'DCR_AUDIT_RETENTION';
  if (value.trim() === '0') return 0;
  return atLeastAnHour(name, value, 'or 0 to keep events forever');
}

type IdleTier = RegistrationVia;
const IDLE_TIERS: readonly IdleTier[] = REGISTRATION_TIERS;

function atLeastAnHour(name: string, value: string, otherwise = 'or off'): number {
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds < 3600)
    throw new SettingError(`${name} must be a duration of at least one hour, like 24h or 90d, ${otherwise}`);
  return seconds;
}

/**
 * The registration rules a deployment sets through its environment, read as the reference server
 * reads them (same names, same defaults), so that `oauth-dcr validate` judges metadata as the
 * server run with the same environment would: DCR_ALLOWED_GRANT_TYPES, DCR_SCOPES,
 * DCR_REQUIRE_HTTPS_REDIRECT_URIS, DCR_CLIENT_SECRET_TTL and ISSUER.
 */
export interface RegistrationSettings {
  allowedGrantTypes: string[];
  scopesSupported?: string[];
  requireHttpsRedirectUris: boolean;
  clientSecretTtl: number;
  issuer?: string;
}

export function loadRegistrationSettings(env: NodeJS.ProcessEnv): RegistrationSettings {
  const read = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const grants = commaList(read('DCR_ALLOWED_GRANT_TYPES') ?? 'authorization_code,refresh_token');
  if (grants.length === 0) throw new SettingError('DCR_ALLOWED_GRANT_TYPES must name at least one grant type');
  const scopes = read('DCR_SCOPES');
  const https = read('DCR_REQUIRE_HTTPS_REDIRECT_URIS') ?? 'true';
  let requireHttpsRedirectUris: boolean;
  if (/^(1|true|yes|on)$/i.test(https)) requireHttpsRedirectUris = true;
  else if (/^(0|false|no|off)$/i.test(https)) requireHttpsRedirectUris = false;
  else throw new SettingError(`DCR_REQUIRE_HTTPS_REDIRECT_URIS must be true or false, got ${JSON.stringify(https)}`);
  const ttl = read('DCR_CLIENT_SECRET_TTL') ?? '0';
  const clientSecretTtl = parseDuration(ttl);
  if (clientSecretTtl === undefined) {
    throw new SettingError(`DCR_CLIENT_SECRET_TTL must be a duration like 300, 15m or 7d, got ${JSON.stringify(ttl)}`);
  }
  const issuer = read('ISSUER');
  const settings: RegistrationSettings = { allowedGrantTypes: grants, requireHttpsRedirectUris, clientSecretTtl };
  if (scopes !== undefined) settings.scopesSupported = commaList(scopes);
  if (issuer !== undefined) settings.issuer = issuer;
  return settings;
}

function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

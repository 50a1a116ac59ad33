/**
 * Settings of the reference authorization server, read once from the environment and command-line
 * flags (flags win). Every value is checked here, so a bad setting stops the server at start with a
 * message naming the variable, never on a request.
 */

/** Grants the reference server can really run (@node-oauth/oauth2-server's built-in handlers). */
export const SERVER_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

export type StorageConfig =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema?: string };

export interface ServerConfig {
  port: number;
  host: string;
  /** Public base URL. Undefined means "http://HOST:PORT", filled in once the port is known. */
  issuer?: string;
  storage: StorageConfig;
  /** DCR_DEMO_USER=name:password: this user exists with this password after start. */
  demoUser?: { username: string; password: string };
  registration: {
    allowedGrantTypes: string[];
    openRegistration: boolean;
    requireHttpsRedirectUris: boolean;
    scopesSupported?: string[];
    /** Seconds until issued client secrets expire; 0 = never. */
    clientSecretTtl: number;
    persistAuditEvents: boolean;
  };
  lifetimes: {
    /** RFC 6749 §4.1.2 recommends at most 10 minutes. */
    authorizationCode: number;
    accessToken: number;
    refreshToken: number;
  };
  logLevel: string;
}

/** One setting as the banner shows it: where its value came from. */
export interface SettingSource {
  name: string;
  value: string;
  source: 'default' | 'env' | 'flag';
}

export interface LoadedConfig {
  config: ServerConfig;
  settings: SettingSource[];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Command-line flags, already parsed; names as in the environment, lower-case with dashes. */
export type ConfigFlags = Partial<Record<
  'port' | 'host' | 'issuer' | 'database-path' | 'database-url' | 'database-schema' | 'store' | 'log-level',
  string
>>;

export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = 'localhost';
export const DEFAULT_DATABASE_PATH = './oauth-dcr.db';

export function loadConfig(env: NodeJS.ProcessEnv, flags: ConfigFlags = {}): LoadedConfig {
  const settings: SettingSource[] = [];
  const read = (name: string, flag: keyof ConfigFlags | undefined, fallback?: string): string | undefined => {
    const fromFlag = flag ? flags[flag] : undefined;
    const fromEnv = env[name];
    if (fromFlag !== undefined) {
      settings.push({ name, value: fromFlag, source: 'flag' });
      return fromFlag;
    }
    if (fromEnv !== undefined && fromEnv !== '') {
      settings.push({ name, value: fromEnv, source: 'env' });
      return fromEnv;
    }
    if (fallback !== undefined) settings.push({ name, value: fallback, source: 'default' });
    return fallback;
  };

  const port = parsePort(read('PORT', 'port', String(DEFAULT_PORT))!);
  const host = read('HOST', 'host', DEFAULT_HOST)!;
  const issuer = parseIssuer(read('ISSUER', 'issuer'));
  if (issuer === undefined) settings.push({ name: 'ISSUER', value: 'http://HOST:PORT', source: 'default' });

  const storeKind = read('DCR_STORE', 'store');
  const databaseUrl = read('DATABASE_URL', 'database-url');
  let storage: StorageConfig;
  if (storeKind !== undefined && storeKind !== 'memory' && storeKind !== 'sqlite' && storeKind !== 'postgres') {
    throw new ConfigError(`DCR_STORE must be memory, sqlite or postgres, got ${JSON.stringify(storeKind)}`);
  }
  if (storeKind === 'memory') {
    storage = { kind: 'memory' };
  } else if (storeKind === 'postgres' || (storeKind === undefined && databaseUrl !== undefined)) {
    if (!databaseUrl) throw new ConfigError('DCR_STORE=postgres needs DATABASE_URL');
    const schema = read('DATABASE_SCHEMA', 'database-schema');
    storage = { kind: 'postgres', url: databaseUrl, ...(schema ? { schema } : {}) };
  } else {
    storage = { kind: 'sqlite', path: read('DATABASE_PATH', 'database-path', DEFAULT_DATABASE_PATH)! };
  }

  const demoUserSetting = read('DCR_DEMO_USER', undefined);
  const grants = parseList(read('DCR_ALLOWED_GRANT_TYPES', undefined, 'authorization_code,refresh_token')!);
  for (const grant of grants) {
    if (!(SERVER_GRANT_TYPES as readonly string[]).includes(grant)) {
      throw new ConfigError(
        `DCR_ALLOWED_GRANT_TYPES: the reference server cannot run '${grant}' (it runs ${SERVER_GRANT_TYPES.join(', ')})`,
      );
    }
  }
  const scopes = read('DCR_SCOPES', undefined);

  const config: ServerConfig = {
    port,
    host,
    ...(issuer ? { issuer } : {}),
    storage,
    ...(demoUserSetting ? { demoUser: parseDemoUser(demoUserSetting) } : {}),
    registration: {
      allowedGrantTypes: grants,
      openRegistration: parseBoolean('DCR_OPEN_REGISTRATION', read('DCR_OPEN_REGISTRATION', undefined, 'true')!),
      requireHttpsRedirectUris: parseBoolean(
        'DCR_REQUIRE_HTTPS_REDIRECT_URIS',
        read('DCR_REQUIRE_HTTPS_REDIRECT_URIS', undefined, 'true')!,
      ),
      ...(scopes ? { scopesSupported: parseList(scopes) } : {}),
      clientSecretTtl: parseSeconds('DCR_CLIENT_SECRET_TTL', read('DCR_CLIENT_SECRET_TTL', undefined, '0')!, true),
      persistAuditEvents: parseBoolean('DCR_PERSIST_AUDIT', read('DCR_PERSIST_AUDIT', undefined, 'true')!),
    },
    lifetimes: {
      authorizationCode: parseSeconds('DCR_CODE_TTL', read('DCR_CODE_TTL', undefined, '300')!),
      accessToken: parseSeconds('DCR_ACCESS_TOKEN_TTL', read('DCR_ACCESS_TOKEN_TTL', undefined, '3600')!),
      refreshToken: parseSeconds('DCR_REFRESH_TOKEN_TTL', read('DCR_REFRESH_TOKEN_TTL', undefined, '14d')!),
    },
    logLevel: read('LOG_LEVEL', 'log-level', 'info')!,
  };
  // The demo password must not end up in the banner.
  for (const setting of settings) if (setting.name === 'DCR_DEMO_USER') setting.value = `${config.demoUser!.username}:***`;
  return { config, settings };
}

/** The issuer once the listening port is known (RFC 8414 §2: no trailing slash, query or fragment). */
export function resolveIssuer(config: ServerConfig, port: number): string {
  if (config.issuer) return config.issuer;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${port}`;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new ConfigError(`PORT must be 0-65535, got ${JSON.stringify(value)}`);
  return port;
}

function parseIssuer(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`ISSUER must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('ISSUER must be an http(s) URL');
  // RFC 8414 §2: the issuer identifier has no query or fragment component.
  if (url.search || url.hash) throw new ConfigError('ISSUER must not have a query or fragment');
  return value.replace(/\/+$/, '');
}

function parseDemoUser(value: string): { username: string; password: string } {
  const colon = value.indexOf(':');
  const username = value.slice(0, colon);
  const password = value.slice(colon + 1);
  if (colon < 1 || password.length === 0) throw new ConfigError('DCR_DEMO_USER must be name:password');
  return { username, password };
}

function parseList(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

function parseBoolean(name: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "300", "15m", "7d" -> seconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+)\s*([smhdw]?)$/i.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS[(match[2] || 's').toLowerCase()]!;
}

function parseSeconds(name: string, value: string, allowZero = false): number {
  const seconds = parseDuration(value);
  if (seconds === undefined || (!allowZero && seconds === 0)) {
    throw new ConfigError(`${name} must be a duration like 300, 15m or 7d, got ${JSON.stringify(value)}`);
  }
  return seconds;
}

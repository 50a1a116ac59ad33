/**
 * Settings of the reference authorization server, read once from the environment and command-line
 * flags (flags win). Every value is checked here, so a bad setting stops the server at start with a
 * message naming the variable, never on a request.
 */
import { maskUrlPassword, secretValues as databaseSecretValues } from 'oauth-dcr/admin';
import {
  REGISTRATION_TIERS,
  type ClientAttestationOptions,
  type IdleClientRule,
  type RateLimit,
  type RegistrationVia,
} from 'oauth-dcr';
import {
  ConfigError,
  checkDatabaseUrl,
  checkRedisUrl,
  parseAtLeastAnHour,
  parseAuditRetention,
  parseBoolean,
  parseCount,
  parseDemoUser,
  parseIntrospectionClient,
  parseIssuer,
  parseList,
  parsePort,
  parseRateLimit,
  parseResource,
  parseSeconds,
  readAttestersFile,
  redisUrlPassword,
} from './setting-values.js';

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
  /**
   * RFC 8707 resource indicators. `list` undefined: any absolute https URI, or http on loopback, is
   * accepted and shown on the consent page (DCR_RESOURCES unset). `default` is the audience of a
   * token asked for without `resource`; none means such a token has no resource audience.
   */
  resources: { list?: string[]; default?: string };
  /** Client ID Metadata Documents (an https client_id); DCR_CIMD=false turns them off. */
  cimd: { enabled: boolean };
  /**
   * DCR_FETCH_ALLOW: hosts, addresses or CIDRs that outbound fetches (documents, JWKS) may reach
   * despite the private-range block. For local development and tests only: the banner warns.
   */
  fetchAllow: string[];
  /**
   * DCR_INTROSPECTION_CLIENTS: the clients the operator allows to call RFC 7662 introspection,
   * each `client_id` (every token) or `client_id=resource|resource` (only tokens for those
   * resources: an MCP server's own client sees its own tokens alone).
   */
  introspectionClients: IntrospectionClient[];
  /** DCR_SIGNING_KEY_SECRET: seals the access-token signing keys at rest (src/signing-keys.ts). */
  signingKeySecret?: string;
  /** REDIS_URL: rate-limit and login-throttle counters shared by every instance. Unset: in memory. */
  redisUrl?: string;
  /**
   * DCR_REDIS_KEY_PREFIX (default `oauth-dcr:`): prepended to every Redis key, so that several
   * deployments can share one Redis. Instances that must count together use the same prefix.
   */
  redisKeyPrefix: string;
  /**
   * DCR_TRUST_PROXY: proxies (CIDRs or addresses) whose X-Forwarded-For is believed. Empty: the
   * client address is the socket's peer.
   */
  trustProxy: string[];
  /** Rate limits (DCR_RATE_LIMITS=off turns them all off; DCR_LIMIT_* set one, `N/duration[+burst]` or off). */
  rateLimits: RateLimitConfig | false;
  /** DCR_MAX_CLIENTS and DCR_MAX_CLIENTS_PER_TIER (`tier=N,...`). */
  caps: { total?: number; perTier: Partial<Record<RegistrationVia, number>> };
  /** DCR_REGISTER_ALLOW / DCR_REGISTER_DENY: CIDRs for open registration. */
  registrationAddresses: { allow?: string[]; deny?: string[] };
  /** DCR_DEDUPLICATE_WINDOW: seconds; unset means off. */
  deduplicateWindow?: number;
  /** DCR_REAP_NEVER_USED / DCR_REAP_UNUSED (`tier=duration,...` or off): per-tier idle rules; unset tiers keep the library default. */
  idleClients: Partial<Record<RegistrationVia, IdleClientRule | false>>;
  /** DCR_REAP_INTERVAL: seconds between reaper runs inside the server; 0 turns it off. Default 1h. */
  reapInterval: number;
  /** DCR_AUDIT_RETENTION: seconds audit events are kept; 0 forever. Default 90d. */
  auditRetention: number;
  /** DCR_METRICS_PORT (and DCR_METRICS_HOST, default 127.0.0.1): Prometheus /metrics on its own port. Unset: no metrics endpoint. */
  metrics?: { port: number; host: string };
  /** DCR_OPERATORS: usernames allowed into the admin page. */
  operators: string[];
  logLevel: LogLevel;
  /**
   * DCR_ATTESTERS: a JSON file of trusted Client Attesters and the attestation policy (the
   * library's `clientAttestation` option less `replayGuard` and `challenge`), which turns on
   * attest_jwt_client_auth (draft-ietf-oauth-attestation-based-client-auth-10). Unset: off.
   * DCR_ATTESTATION_CHALLENGE_SECRET (32+ characters) adds the challenge endpoint (§6).
   */
  clientAttestation?: {
    options: Omit<ClientAttestationOptions, 'replayGuard' | 'challenge'>;
    challengeSecret?: string;
  };
  http: {
    /**
     * Milliseconds a client has to send a whole request, body included (node:http
     * `requestTimeout`). A registration is a few KiB: a body still arriving after this is a
     * stalled or hostile client holding a connection.
     */
    requestTimeoutMs: number;
    /** Milliseconds a client has to send the request line and headers (`headersTimeout`). */
    headersTimeoutMs: number;
  };
}

/** Each limit as set; undefined keeps the library default. */
export interface RateLimitConfig {
  perAddress?: RateLimit | false;
  perInitialAccessToken?: RateLimit | false;
  perSoftware?: RateLimit | false;
  perDocumentHost?: RateLimit | false;
  failedAuthPerClient?: RateLimit | false;
  failedAuthPerAddress?: RateLimit | false;
  /** DCR_RATE_LIMIT_ON_STORE_ERROR: open (default) or closed. */
  onStoreError: 'open' | 'closed';
}

/** Env names of each limit, for DCR_LIMIT_*. */
export const RATE_LIMIT_SETTINGS = {
  perAddress: 'DCR_LIMIT_REGISTER_PER_ADDRESS',
  perInitialAccessToken: 'DCR_LIMIT_REGISTER_PER_IAT',
  perSoftware: 'DCR_LIMIT_REGISTER_PER_SOFTWARE',
  perDocumentHost: 'DCR_LIMIT_DOCUMENT_PER_HOST',
  failedAuthPerClient: 'DCR_LIMIT_FAILED_AUTH_PER_CLIENT',
  failedAuthPerAddress: 'DCR_LIMIT_FAILED_AUTH_PER_ADDRESS',
} as const;

export const TIER_NAMES: readonly RegistrationVia[] = REGISTRATION_TIERS;

export interface IntrospectionClient {
  clientId: string;
  /** Only tokens whose audience is one of these; undefined means every token. */
  resources?: string[];
}

/** pino's levels, and 'silent'. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One setting as the banner shows it: where its value came from. */
export interface SettingSource {
  name: string;
  /** As shown: secrets in it are masked. */
  value: string;
  /** 'derived': computed from other settings; `note` says from which. */
  source: 'default' | 'env' | 'flag' | 'derived';
  note?: string;
}

export interface LoadedConfig {
  config: ServerConfig;
  settings: SettingSource[];
}

export { ConfigError, parseDuration } from './setting-values.js';

/** Command-line flags, already parsed; names as in the environment, lower-case with dashes. */
export type ConfigFlags = Partial<
  Record<
    'port' | 'host' | 'issuer' | 'database-path' | 'database-url' | 'database-schema' | 'store' | 'log-level',
    string
  >
>;

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
  // Without ISSUER the issuer is derived once the port is bound (PORT=0 picks one): the banner
  // shows it then, with what it was derived from (issuerSetting).
  const issuer = parseIssuer(read('ISSUER', 'issuer'));

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
    checkDatabaseUrl(databaseUrl);
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
  const logLevel = parseLogLevel(read('LOG_LEVEL', 'log-level', 'info')!);
  const requestTimeout = parseSeconds('DCR_REQUEST_TIMEOUT', read('DCR_REQUEST_TIMEOUT', undefined, '30s')!);
  const headersTimeout = parseSeconds('DCR_HEADERS_TIMEOUT', read('DCR_HEADERS_TIMEOUT', undefined, '10s')!);
  if (headersTimeout > requestTimeout) {
    // node:http refuses a headers timeout longer than the request timeout it is part of.
    throw new ConfigError(
      `DCR_HEADERS_TIMEOUT (${headersTimeout}s) must not exceed DCR_REQUEST_TIMEOUT (${requestTimeout}s)`,
    );
  }

  const resourceList = read('DCR_RESOURCES', undefined);
  const defaultResource = read('DCR_DEFAULT_RESOURCE', undefined);
  const resources: ServerConfig['resources'] = {
    ...(resourceList ? { list: parseList(resourceList).map((value) => parseResource('DCR_RESOURCES', value)) } : {}),
    ...(defaultResource ? { default: parseResource('DCR_DEFAULT_RESOURCE', defaultResource) } : {}),
  };
  const fetchAllow = parseList(read('DCR_FETCH_ALLOW', undefined) ?? '');
  const introspectionClients = parseList(read('DCR_INTROSPECTION_CLIENTS', undefined) ?? '').map(
    parseIntrospectionClient,
  );
  const signingKeySecret = read('DCR_SIGNING_KEY_SECRET', undefined);
  if (signingKeySecret !== undefined && signingKeySecret.length < 16)
    throw new ConfigError('DCR_SIGNING_KEY_SECRET must be at least 16 characters (a long random value)');

  const redisUrl = read('REDIS_URL', undefined);
  if (redisUrl !== undefined) checkRedisUrl(redisUrl);
  const redisKeyPrefix =
    read('DCR_REDIS_KEY_PREFIX', undefined, redisUrl !== undefined ? 'oauth-dcr:' : undefined) ?? 'oauth-dcr:';
  const trustProxy = parseList(read('DCR_TRUST_PROXY', undefined) ?? '');
  let rateLimits: ServerConfig['rateLimits'] = false;
  if (parseBoolean('DCR_RATE_LIMITS', read('DCR_RATE_LIMITS', undefined, 'true')!)) {
    const onStoreError = read('DCR_RATE_LIMIT_ON_STORE_ERROR', undefined, 'open')!;
    if (onStoreError !== 'open' && onStoreError !== 'closed')
      throw new ConfigError(
        `DCR_RATE_LIMIT_ON_STORE_ERROR must be open or closed, got ${JSON.stringify(onStoreError)}`,
      );
    const limits: RateLimitConfig = { onStoreError };
    for (const [key, name] of Object.entries(RATE_LIMIT_SETTINGS) as [keyof typeof RATE_LIMIT_SETTINGS, string][]) {
      const value = read(name, undefined);
      if (value !== undefined) limits[key] = parseRateLimit(name, value);
    }
    rateLimits = limits;
  }
  const maxClients = read('DCR_MAX_CLIENTS', undefined);
  const caps: ServerConfig['caps'] = {
    ...(maxClients !== undefined ? { total: parseCount('DCR_MAX_CLIENTS', maxClients) } : {}),
    perTier: Object.fromEntries(
      parseTierList('DCR_MAX_CLIENTS_PER_TIER', read('DCR_MAX_CLIENTS_PER_TIER', undefined)).map(([tier, value]) => [
        tier,
        parseCount('DCR_MAX_CLIENTS_PER_TIER', value),
      ]),
    ),
  };
  const registerAllow = read('DCR_REGISTER_ALLOW', undefined);
  const registerDeny = read('DCR_REGISTER_DENY', undefined);
  const registrationAddresses: ServerConfig['registrationAddresses'] = {
    ...(registerAllow ? { allow: parseList(registerAllow) } : {}),
    ...(registerDeny ? { deny: parseList(registerDeny) } : {}),
  };
  const dedupWindow = read('DCR_DEDUPLICATE_WINDOW', undefined);
  const idleClients: ServerConfig['idleClients'] = {};
  for (const [setting, field] of [
    ['DCR_REAP_NEVER_USED', 'neverUsedWithin'],
    ['DCR_REAP_UNUSED', 'unusedFor'],
  ] as const) {
    for (const [tier, value] of parseTierList(setting, read(setting, undefined))) {
      const current = idleClients[tier];
      const rule: IdleClientRule = current === undefined || current === false ? {} : current;
      rule[field] = value === 'off' ? false : parseAtLeastAnHour(setting, value);
      idleClients[tier] = rule;
    }
  }
  const metricsPort = read('DCR_METRICS_PORT', undefined);
  const metricsHost = read('DCR_METRICS_HOST', undefined, metricsPort !== undefined ? '127.0.0.1' : undefined);
  const operators = parseList(read('DCR_OPERATORS', undefined) ?? '');
  const attestersFile = read('DCR_ATTESTERS', undefined);
  const challengeSecret = read('DCR_ATTESTATION_CHALLENGE_SECRET', undefined);
  if (challengeSecret !== undefined && (attestersFile === undefined || challengeSecret.length < 32))
    throw new ConfigError('DCR_ATTESTATION_CHALLENGE_SECRET needs DCR_ATTESTERS and at least 32 characters');

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
    resources,
    cimd: { enabled: parseBoolean('DCR_CIMD', read('DCR_CIMD', undefined, 'true')!) },
    fetchAllow,
    introspectionClients,
    ...(signingKeySecret ? { signingKeySecret } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    redisKeyPrefix,
    trustProxy,
    rateLimits,
    caps,
    registrationAddresses,
    ...(dedupWindow !== undefined ? { deduplicateWindow: parseSeconds('DCR_DEDUPLICATE_WINDOW', dedupWindow) } : {}),
    idleClients,
    reapInterval: parseSeconds('DCR_REAP_INTERVAL', read('DCR_REAP_INTERVAL', undefined, '1h')!, true),
    auditRetention: parseAuditRetention(read('DCR_AUDIT_RETENTION', undefined, '90d')!),
    ...(metricsPort !== undefined ? { metrics: { port: parsePort(metricsPort), host: metricsHost! } } : {}),
    operators,
    logLevel,
    ...(attestersFile !== undefined
      ? {
          clientAttestation: {
            options: readAttestersFile(attestersFile),
            ...(challengeSecret !== undefined ? { challengeSecret } : {}),
          },
        }
      : {}),
    http: { requestTimeoutMs: requestTimeout * 1000, headersTimeoutMs: headersTimeout * 1000 },
  };
  // Passwords must not end up in the banner.
  for (const setting of settings) {
    if (setting.name === 'DCR_DEMO_USER') setting.value = `${config.demoUser!.username}:***`;
    if (setting.name === 'DATABASE_URL') setting.value = maskUrlPassword(setting.value);
    if (setting.name === 'DCR_SIGNING_KEY_SECRET') setting.value = '***';
    if (setting.name === 'DCR_ATTESTATION_CHALLENGE_SECRET') setting.value = '***';
    if (setting.name === 'REDIS_URL') setting.value = maskUrlPassword(setting.value);
  }
  return { config, settings };
}

/** Hosts that mean "every interface": fine to listen on, but no address a client can use. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0']);

/** The issuer once the listening port is known (RFC 8414 §2: no trailing slash, query or fragment). */
export function resolveIssuer(config: ServerConfig, port: number): string {
  if (config.issuer) return config.issuer;
  const host = WILDCARD_HOSTS.has(config.host)
    ? 'localhost'
    : config.host.includes(':')
      ? `[${config.host}]`
      : config.host;
  return `http://${host}:${port}`;
}

/**
 * The banner's ISSUER line. A derived issuer says what it came from, above all when HOST is a
 * wildcard: the issuer then names localhost, which only this machine can reach.
 */
export function issuerSetting(loaded: LoadedConfig, port: number): SettingSource {
  const issuer = resolveIssuer(loaded.config, port);
  const given = loaded.settings.find((setting) => setting.name === 'ISSUER');
  // As in use: RFC 8414 §2 leaves no trailing slash on what was given.
  if (given) return { ...given, value: issuer };
  const { host, port: configuredPort } = loaded.config;
  const portText = configuredPort === 0 ? `the port the system chose for PORT=0 (${port})` : `PORT=${port}`;
  const note = WILDCARD_HOSTS.has(host)
    ? `derived: HOST=${host} listens on every interface, which is no address for clients, so localhost and ${portText}; set ISSUER to the URL clients use`
    : `derived from HOST=${host} and ${portText}; set ISSUER to the URL clients use`;
  return { name: 'ISSUER', value: issuer, source: 'derived', note };
}

/**
 * The secret values among the settings (database password, demo user password), for masking
 * any text that is printed or logged: an error message or a driver's log line may quote them.
 */
export function secretValues(env: NodeJS.ProcessEnv, flags: ConfigFlags = {}): string[] {
  const secrets = databaseSecretValues(env, flags);
  const demoUser = env.DCR_DEMO_USER;
  const demoPassword = demoUser && demoUser.indexOf(':') > 0 ? demoUser.slice(demoUser.indexOf(':') + 1) : '';
  // Very short values would mask ordinary words all over the output.
  if (demoPassword.length >= 4 && !secrets.includes(demoPassword)) secrets.push(demoPassword);
  const redisPassword = redisUrlPassword(env.REDIS_URL);
  if (redisPassword && redisPassword.length >= 4 && !secrets.includes(redisPassword)) secrets.push(redisPassword);
  const keySecret = env.DCR_SIGNING_KEY_SECRET;
  if (keySecret && keySecret.length >= 4 && !secrets.includes(keySecret)) secrets.push(keySecret);
  const challengeSecret = env.DCR_ATTESTATION_CHALLENGE_SECRET;
  if (challengeSecret && challengeSecret.length >= 4 && !secrets.includes(challengeSecret))
    secrets.push(challengeSecret);
  return secrets;
}

/** `tier=value,tier=value`, each tier one of TIER_NAMES. */
function parseTierList(name: string, value: string | undefined): Array<[RegistrationVia, string]> {
  if (value === undefined) return [];
  return parseList(value).map((entry) => {
    const equals = entry.indexOf('=');
    const tier = entry.slice(0, equals).trim() as RegistrationVia;
    if (equals < 1 || !TIER_NAMES.includes(tier))
      throw new ConfigError(
        `${name}: each entry is tier=value, the tier one of ${TIER_NAMES.join(', ')}; got ${JSON.stringify(entry)}`,
      );
    return [tier, entry.slice(equals + 1).trim()];
  });
}

function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as LogLevel;
}

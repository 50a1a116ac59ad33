import {
  ConfigError,
  issuerSetting,
  loadConfig,
  type ConfigFlags,
  type ServerConfig,
  type SettingSource,
} from './config.js';
import { createRegistration, type ReapReport } from 'oauth-dcr';
import { clientRevoker, withReaperLock } from './client-lifecycle.js';
import { silentLogger } from './logger.js';
import { fetchWarnings } from './outbound-fetch.js';
import { registrationLimitOptions } from './registration-limits.js';
import { openConfiguredStorage, startServer, type RunningServer } from './server.js';
import { openSigningKeys, pruneStorage } from './storage/maintenance.js';
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
  /** `prune --idle [--dry-run]`. */
  switches?: { idle?: boolean; dryRun?: boolean };
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
  prune                       delete expired authorization codes, tokens and client assertions, and
                              retired signing keys no live token needs (the server does it every
                              few minutes while it runs; this never creates a database)
  prune --idle [--dry-run]    run the idle-client reaper once (DCR_REAP_NEVER_USED, DCR_REAP_UNUSED),
                              as the server does every DCR_REAP_INTERVAL, and revoke the reaped
                              clients' tokens; --dry-run lists what it would delete (the same as
                              npx oauth-dcr prune --idle)
  keys list                   the access-token signing keys and their state
  keys rotate                 a new signing key signs from now on; the old one stays published
                              at jwks_uri until every token it signed has expired
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
  DCR_RESOURCES, DCR_DEFAULT_RESOURCE, DCR_INTROSPECTION_CLIENTS, DCR_SIGNING_KEY_SECRET,
  DCR_REQUEST_TIMEOUT (default 30s), DCR_HEADERS_TIMEOUT (default 10s),
  REDIS_URL (shared counters), DCR_REDIS_KEY_PREFIX (default oauth-dcr:), DCR_TRUST_PROXY,
  DCR_RATE_LIMITS (default on), DCR_LIMIT_REGISTER_PER_ADDRESS, DCR_LIMIT_REGISTER_PER_IAT,
  DCR_LIMIT_REGISTER_PER_SOFTWARE, DCR_LIMIT_DOCUMENT_PER_HOST, DCR_LIMIT_FAILED_AUTH_PER_CLIENT,
  DCR_LIMIT_FAILED_AUTH_PER_ADDRESS (each N/duration[+burst] or off), DCR_RATE_LIMIT_ON_STORE_ERROR
  (open or closed), DCR_MAX_CLIENTS, DCR_MAX_CLIENTS_PER_TIER, DCR_REGISTER_ALLOW, DCR_REGISTER_DENY,
  DCR_DEDUPLICATE_WINDOW, DCR_REAP_NEVER_USED, DCR_REAP_UNUSED, DCR_REAP_INTERVAL (default 1h, 0 off),
  DCR_AUDIT_RETENTION (default 90d), DCR_METRICS_PORT, DCR_METRICS_HOST, DCR_OPERATORS`;

/** Runs a command; resolves once it is done (for `serve`: once the server is listening). */
export async function runCommand(input: CommandInput): Promise<RunningServer | void> {
  const [command, sub] = input.positionals;
  switch (command) {
    case 'serve':
      return serve(input);
    case 'migrate':
      return migrate(input);
    case 'prune':
      if (input.switches?.idle) return pruneIdle(input);
      if (input.switches?.dryRun) throw new UsageError('--dry-run goes with --idle');
      return withStorage(input, async (storage, config) => {
        const pruned = await pruneStorage(storage, config.lifetimes.accessToken, 0);
        input.output.out(`deleted ${pruned} expired codes, tokens, client assertions and signing keys`);
      });
    case 'keys':
      return keys(input, sub);
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
  for (const line of tokenNotes(loaded.config)) output.out(`  ${line}`);
  output.out(`  ${limitNote(loaded.config, server.redis?.description)}`);
  for (const warning of fetchWarnings(loaded.config)) output.out(`  warning: ${warning}`);
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

/** What the banner says about the tokens: which resources, and how the signing key is kept. */
function tokenNotes(config: ServerConfig): string[] {
  const { list, default: fallback } = config.resources;
  return [
    list
      ? `resources: ${list.join(', ')} (DCR_RESOURCES: any other resource is refused)`
      : 'resources: any https URI, or http on loopback, is accepted and shown on the consent page; set DCR_RESOURCES to list the ones served',
    fallback
      ? `default resource: ${fallback}`
      : 'default resource: none (a token asked for without resource is good only at /userinfo)',
    config.signingKeySecret
      ? 'signing keys: sealed at rest with DCR_SIGNING_KEY_SECRET'
      : 'signing keys: stored unsealed in the database; set DCR_SIGNING_KEY_SECRET to seal them',
  ];
}

/**
 * `prune --idle [--dry-run]`: the library's reaper on this server's settings, under the same
 * PostgreSQL advisory lock as the servers' timers. Each reaped client's tokens and codes are
 * revoked here, as a running server does on the client.reaped event.
 */
async function pruneIdle(input: CommandInput): Promise<void> {
  const dryRun = input.switches?.dryRun ?? false;
  await withStorage(input, async (storage, config) => {
    const revoke = clientRevoker(storage, silentLogger());
    const revocations: Promise<unknown>[] = [];
    const registration = createRegistration({
      store: storage.clients,
      ...registrationLimitOptions(config, undefined),
      persistAuditEvents: config.registration.persistAuditEvents,
      onEvent: (event) => revocations.push(revoke(event)),
      onError: () => {},
    });
    let report: ReapReport | undefined;
    const ran = await withReaperLock(config.storage, async () => {
      report = await registration.reapIdleClients({ dryRun });
    });
    await Promise.all(revocations);
    if (!ran || !report) {
      input.output.out('another process is reaping idle clients now: nothing done');
      return;
    }
    printReapReport(input.output, report, dryRun);
  });
}

function printReapReport(output: Output, report: ReapReport, dryRun: boolean): void {
  const tiers = Object.entries(report.byTier);
  if (tiers.length === 0) {
    output.out('no idle clients');
    return;
  }
  const verb = dryRun ? 'would delete' : 'deleted';
  for (const [tier, count] of tiers) output.out(`${tier}: ${verb} ${count}`);
  output.out(`total: ${verb} ${report.total} idle clients`);
  if (dryRun && report.clientIds.length > 0) output.out(`ids: ${report.clientIds.slice(0, 20).join(' ')}`);
}

/** Where the rate-limit and sign-in counters live (the Redis URL without its password). */
function limitNote(config: ServerConfig, redis: string | undefined): string {
  const where = redis
    ? `in Redis ${redis}, shared by every instance (registration limits fail ${config.rateLimits ? config.rateLimits.onStoreError : 'open'}, sign-in fails closed while Redis is down)`
    : 'in memory, per instance (set REDIS_URL to share them)';
  return config.rateLimits === false
    ? `rate limits: off (DCR_RATE_LIMITS=off); sign-in attempts counted ${where}`
    : `rate limits and sign-in attempts counted ${where}`;
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

/** `keys list` and `keys rotate`: the RFC 9068 signing keys in the database (src/signing-keys.ts). */
async function keys(input: CommandInput, sub: string | undefined): Promise<void> {
  if (sub !== 'list' && sub !== 'rotate') throw new UsageError('keys needs list or rotate (see oauth-dcr-server help)');
  await withStorage(input, async (storage, config) => {
    const ring = await openSigningKeys(config, storage);
    if (sub === 'rotate') {
      const kid = await ring.rotate();
      input.output.out(`new signing key ${kid}: it signs from now on (running servers switch within a minute)`);
      input.output.out(
        'the previous key stays published at jwks_uri until the tokens it signed have expired (DCR_ACCESS_TOKEN_TTL)',
      );
    }
    for (const key of await ring.describe()) {
      input.output.out(`${key.kid}  ${key.alg}  created ${new Date(key.createdAt * 1000).toISOString()}  ${key.state}`);
    }
  });
}

async function withStorage(
  input: CommandInput,
  work: (storage: ServerStorage, config: ServerConfig) => Promise<void>,
): Promise<void> {
  const { config } = loadConfig(input.env, input.flags);
  if (config.storage.kind === 'memory') {
    throw new UsageError('this command needs a database: DCR_STORE=memory lives inside a running server');
  }
  // Only serve and migrate may create a database: here a missing one is a mistyped setting.
  const storage = await openConfiguredStorage(config.storage, { mustExist: true });
  try {
    await work(storage, config);
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

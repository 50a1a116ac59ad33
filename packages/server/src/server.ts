import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registration } from 'oauth-dcr';
import { checkStorage, explainStorageError, SettingError } from 'oauth-dcr/admin';
import { nodeRegistration } from 'oauth-dcr/node';
import { createApp, logRequest } from './app.js';
import { buildContext } from './build-context.js';
import { followClientEvents } from './audit-follower.js';
import { clientRevoker, startMaintenance } from './client-lifecycle.js';
import { ConfigError, resolveIssuer, type ServerConfig, type StorageConfig } from './config.js';
import type { ServerContext } from './context.js';
import { createLogger, type Logger } from './logger.js';
import type { ServerMetrics } from './metrics.js';
import { openRedis, type RedisConnection } from './redis.js';
import { routeLabel } from './route-label.js';
import { tokenEndpoint } from './routes/token.js';
import { openStorage, type OpenStorageOptions, type ServerStorage } from './storage/open-storage.js';
import { ensureDemoUser, type DemoUserOutcome } from './users.js';

export interface StartOptions {
  logger?: Logger;
  /** Storage opened by the caller (it then stays open after close()). */
  storage?: ServerStorage;
  /** Milliseconds in-flight requests get to finish on close() before their connections are cut. */
  shutdownGraceMs?: number;
}

export interface RunningServer {
  /** The issuer, which is also the base URL clients use. */
  url: string;
  port: number;
  registration: Registration;
  storage: ServerStorage;
  demoUser: DemoUserOutcome;
  http: Server;
  /** Prometheus metrics; `metrics.address()` is the metrics listener's, when DCR_METRICS_PORT is set. */
  metrics: ServerMetrics;
  /** The Redis connection (REDIS_URL), when configured. */
  redis?: RedisConnection;
  /** Runs the idle-client reaper once now, as its timer does (one run at a time, under the lock). */
  reapIdleClients(): Promise<void>;
  /** Reads the audit trail for clients disabled elsewhere now, as its timer does, revoking their tokens. */
  followClientEvents(): Promise<void>;
  /**
   * Stops accepting connections, lets requests in flight finish (for at most the shutdown
   * grace), then closes the storage it opened.
   */
  close(): Promise<void>;
}

/** How soon a client disabled by another process has its tokens revoked here (it is refused at once). */
const AUDIT_FOLLOW_INTERVAL_MS = 30 * 1000;
/** Long enough for any registration or token request in flight; Docker waits 10 s before SIGKILL. */
const DEFAULT_SHUTDOWN_GRACE_MS = 5000;
/**
 * node:http enforces requestTimeout and headersTimeout on this tick (its default, 30 s, would let a
 * stalled request live up to 30 s past its timeout).
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * Binds the port, then opens storage, and only then builds the app. Binding first means a port
 * already in use is refused before a database file is created; and with PORT=0 and no ISSUER the
 * issuer (which every absolute URL is built from) depends on the port the system picked.
 * Requests that arrive while storage opens wait for it.
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel, configSecrets(config));
  const http = createServer({
    requestTimeout: config.http.requestTimeoutMs,
    headersTimeout: config.http.headersTimeoutMs,
    connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, config.http.headersTimeoutMs),
  });
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const waiting: Array<[IncomingMessage, ServerResponse]> = [];
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (handle) handle(req, res);
    else waiting.push([req, res]);
  });
  let storage = options.storage;
  const ownsStorage = options.storage === undefined;
  let redis: RedisConnection | undefined;
  try {
    await listen(http, config);
    storage ??= await openConfiguredStorage(config.storage);
    const opened = storage;
    const demoUser = await ensureDemoUser(opened.users, config.demoUser, Math.floor(Date.now() / 1000));
    const port = (http.address() as AddressInfo).port;
    const issuer = resolveIssuer(config, port);
    // Redis connects in the background: the server serves while Redis is down, each limit then
    // taking its documented store-error choice (registration limits open, sign-in closed).
    if (config.redisUrl) redis = openRedis(config.redisUrl, { keyPrefix: config.redisKeyPrefix, logger });
    const context = await buildContext(config, issuer, opened, logger, redis);
    handle = routeRequests(context);
    await context.metrics.start();
    for (const [req, res] of waiting.splice(0)) handle(req, res);

    const maintenance = startMaintenance({ config, storage: opened, registration: context.registration, logger });
    // A client disabled by another process (the CLI, another instance) loses its tokens here too.
    const follower = followClientEvents({
      store: opened.clients,
      revoke: clientRevoker(opened, logger),
      intervalMs: AUDIT_FOLLOW_INTERVAL_MS,
      logger,
    });
    let closing: Promise<void> | undefined;
    return {
      url: issuer,
      port,
      registration: context.registration,
      storage: opened,
      demoUser,
      http,
      metrics: context.metrics,
      ...(redis ? { redis } : {}),
      reapIdleClients: maintenance.reapNow,
      followClientEvents: () => follower.sweep(),
      close: () =>
        (closing ??= (async () => {
          await drain(http, options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
          await maintenance.stop();
          await follower.stop();
          await context.metrics.close();
          await redis?.close();
          if (ownsStorage) await opened.close();
        })()),
    };
  } catch (error) {
    http.close();
    http.closeAllConnections();
    await redis?.close().catch(() => undefined);
    if (ownsStorage) await storage?.close().catch(() => undefined);
    throw error;
  }
}

/** Binds the port; the usual reasons it cannot be bound are settings, and say which. */
async function listen(http: Server, config: ServerConfig): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
    if (code === 'EADDRINUSE') throw new ConfigError(`PORT: ${where} is already in use`);
    if (code === 'EACCES')
      throw new ConfigError(`PORT: not allowed to listen on ${where} (ports below 1024 need privileges)`);
    if (code === 'EADDRNOTAVAIL') throw new ConfigError(`HOST: ${config.host} is not an address of this machine`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new ConfigError(`HOST: ${config.host} does not resolve`);
    throw error;
  }
}

/**
 * Stops accepting, closes idle keep-alive connections as requests in flight finish (a connection
 * that is mid-request is left to answer), and cuts whatever is still open after the grace.
 */
async function drain(http: Server, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const idleSweep = setInterval(() => http.closeIdleConnections(), 50);
    const cut = setTimeout(() => http.closeAllConnections(), graceMs);
    http.close(() => {
      clearInterval(idleSweep);
      clearTimeout(cut);
      resolve();
    });
    http.closeIdleConnections();
  });
}

export interface OpenConfiguredStorageOptions extends OpenStorageOptions {
  /**
   * The database must already exist and hold oauth-dcr's tables: admin commands read and change
   * an existing database, and a mistyped DATABASE_PATH must not become a new, empty one.
   */
  mustExist?: boolean;
}

/**
 * Opens the configured storage, or explains in one line (a ConfigError naming the setting) why
 * it cannot: a missing directory, a database that does not exist, an unreachable or refusing
 * PostgreSQL server. Checked before opening (the library's checkStorage), so a refused setting
 * leaves nothing on disk.
 */
export async function openConfiguredStorage(
  config: StorageConfig,
  options: OpenConfiguredStorageOptions = {},
): Promise<ServerStorage> {
  const { mustExist = false, ...openOptions } = options;
  if (config.kind === 'memory') return openStorage(config, openOptions);
  try {
    await checkStorage(config, { mustExist });
  } catch (error) {
    throw asConfigError(error);
  }
  try {
    return await openStorage(config, openOptions);
  } catch (error) {
    throw asConfigError(explainStorageError(config, error) ?? error);
  }
}

/** The library's SettingError as the server's ConfigError: the same one line, and exit code 2. */
function asConfigError(error: unknown): unknown {
  return error instanceof SettingError ? new ConfigError(error.message) : error;
}

/** What the logger must never print: the database password and the demo user's password. */
function configSecrets(config: ServerConfig): string[] {
  const secrets: string[] = [];
  if (config.storage.kind === 'postgres') {
    try {
      const password = new URL(config.storage.url).password;
      if (password) secrets.push(password, decodeURIComponent(password));
    } catch {
      // Checked by loadConfig; an unparseable URL has no password to find.
    }
  }
  if (config.redisUrl) {
    try {
      const password = new URL(config.redisUrl).password;
      if (password) secrets.push(password, decodeURIComponent(password));
    } catch {
      // Checked by loadConfig.
    }
  }
  if (config.demoUser) secrets.push(config.demoUser.password);
  return secrets;
}

/**
 * The registration and token endpoints are served straight from node:http: they are what clients
 * hit on first contact and on every token refresh (and where load arrives), and Express's router
 * and middleware cost several times what registering a client does, and a third of a token
 * request. The Express app still mounts both, so createApp() alone is a complete server.
 */
function routeRequests(context: ServerContext): (req: IncomingMessage, res: ServerResponse) => void {
  const app = createApp(context);
  const registration = nodeRegistration(context.registration);
  const token = tokenEndpoint(context);
  const path = context.registration.registrationPath;
  const logHangUps = context.logger.isLevelEnabled('debug');
  const { metrics } = context;
  return (req, res) => {
    const url = req.url ?? '/';
    if (logHangUps) logHangUp(context.logger, req, res, url);
    metrics.observeRequest(req, res, routeLabel(url, path));
    if (url === '/token' || url.startsWith('/token?')) {
      // As for registration below, the access line of the endpoint every refresh hits is debug;
      // an unexpected failure is still logged at error (routes/json-errors.ts).
      if (context.logger.isLevelEnabled('debug')) logRequest(context.logger, req, res, url, 'debug');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      token(req, res);
      return;
    }
    const rest = url.startsWith(path) ? url.charAt(path.length) : 'x';
    if (rest === '' || rest === '/' || rest === '?') {
      // Each outcome here is already logged once as a registration event (onRegistrationEvent),
      // so the access line is debug: two info lines per registration cost a tenth of the throughput.
      if (context.logger.isLevelEnabled('debug')) logRequest(context.logger, req, res, url, 'debug');
      // Every JSON answer of the core already carries nosniff (src/http/response.ts).
      registration(req, res).catch((error: unknown) => {
        context.logger.error({ err: error }, 'registration endpoint failed');
        if (!res.headersSent)
          res.writeHead(500, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
        res.end(
          JSON.stringify({ error: 'server_error', error_description: 'The registration could not be completed' }),
        );
      });
      return;
    }
    app(req, res);
  };
}

/**
 * A client that goes away before its answer (mid-upload, say) did nothing wrong on our side: a
 * debug line, never an error.
 */
function logHangUp(logger: Logger, req: IncomingMessage, res: ServerResponse, url: string): void {
  res.once('close', () => {
    if (!res.writableFinished) {
      logger.debug(
        { method: req.method, path: url.split('?', 1)[0] },
        'client closed the connection before the response was sent',
      );
    }
  });
}

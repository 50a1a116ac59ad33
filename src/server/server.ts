import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OAuth2Server from '@node-oauth/oauth2-server';
import { createRegistration, type Registration } from '../http/web.js';
import type { AuditEvent } from '../store/types.js';
import { createApp, logRequest } from './app.js';
import { nodeRegistration } from '../http/node.js';
import { tokenEndpoint } from './routes/token.js';
import { resolveIssuer, type ServerConfig } from './config.js';
import type { ServerContext } from './context.js';
import { createLogger, type Logger } from './logger.js';
import { LoginThrottle } from './login-throttle.js';
import { createModel } from './model.js';
import { SessionStore } from './sessions.js';
import { openStorage, type ServerStorage } from './storage/open-storage.js';
import { ensureDemoUser, type DemoUserOutcome } from './users.js';

export interface StartOptions {
  logger?: Logger;
  /** Storage opened by the caller (it then stays open after close()). */
  storage?: ServerStorage;
}

export interface RunningServer {
  /** The issuer, which is also the base URL clients use. */
  url: string;
  port: number;
  registration: Registration;
  storage: ServerStorage;
  demoUser: DemoUserOutcome;
  http: Server;
  close(): Promise<void>;
}

/** Expired codes and tokens are deleted this often. */
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;
/** Revoked refresh tokens are kept until well after expiry so that reuse is still recognised. */
const PRUNE_GRACE_SECONDS = 24 * 3600;

/**
 * Opens storage, binds the port, and only then builds the app: with PORT=0 and no ISSUER the
 * issuer (which every absolute URL is built from) depends on the port the system picked.
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const storage = options.storage ?? (await openStorage(config.storage));
  const ownsStorage = options.storage === undefined;
  const http = createServer();
  try {
    const demoUser = await ensureDemoUser(storage.users, config.demoUser, Math.floor(Date.now() / 1000));
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const port = (http.address() as AddressInfo).port;
    const issuer = resolveIssuer(config, port);
    const context = buildContext(config, issuer, storage, logger);
    http.on('request', routeRequests(context));

    const pruneTimer = setInterval(() => {
      storage.tokens.pruneExpired(Math.floor(Date.now() / 1000) - PRUNE_GRACE_SECONDS)
        .then((pruned) => pruned > 0 && logger.info({ pruned }, 'expired codes and tokens deleted'))
        .catch((error: unknown) => logger.warn({ err: error }, 'pruning expired tokens failed'));
    }, PRUNE_INTERVAL_MS);
    pruneTimer.unref();

    let closing: Promise<void> | undefined;
    return {
      url: issuer,
      port,
      registration: context.registration,
      storage,
      demoUser,
      http,
      close: () => (closing ??= (async () => {
        clearInterval(pruneTimer);
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
        if (ownsStorage) await storage.close();
      })()),
    };
  } catch (error) {
    http.close();
    if (ownsStorage) await storage.close().catch(() => undefined);
    throw error;
  }
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
  const path = context.registration.policy.registrationPath;
  return (req, res) => {
    const url = req.url ?? '/';
    if (url === '/token' || url.startsWith('/token?')) {
      logRequest(context.logger, req, res, url);
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
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
        res.end(JSON.stringify({ error: 'server_error', error_description: 'The registration could not be completed' }));
      });
      return;
    }
    app(req, res);
  };
}

function buildContext(config: ServerConfig, issuer: string, storage: ServerStorage, logger: Logger): ServerContext {
  const registration = createRegistration({
    store: storage.clients,
    issuer,
    registrationPath: '/register',
    allowedGrantTypes: config.registration.allowedGrantTypes,
    openRegistration: config.registration.openRegistration,
    requireHttpsRedirectUris: config.registration.requireHttpsRedirectUris,
    clientSecretTtl: config.registration.clientSecretTtl,
    persistAuditEvents: config.registration.persistAuditEvents,
    ...(config.registration.scopesSupported ? { scopesSupported: config.registration.scopesSupported } : {}),
    onEvent: (event) => onRegistrationEvent(event, storage, logger),
    onError: (error) => logger.error({ err: error }, 'registration endpoint error'),
  });
  const model = createModel({ registration, tokens: storage.tokens, users: storage.users, logger });
  const oauth = new OAuth2Server({
    model,
    // The model's getClient decides: public clients pass without a secret, confidential ones
    // do not (see src/integrations/oauth2-server.ts). client_credentials always needs a secret.
    requireClientAuthentication: { authorization_code: false, refresh_token: false },
    authorizationCodeLifetime: config.lifetimes.authorizationCode,
    accessTokenLifetime: config.lifetimes.accessToken,
    refreshTokenLifetime: config.lifetimes.refreshToken,
    alwaysIssueNewRefreshToken: true,
    allowBearerTokensInQueryString: false,
    allowEmptyState: true,
  });
  return {
    issuer,
    basePath: new URL(issuer).pathname.replace(/\/+$/, ''),
    resource: issuer,
    registration,
    oauth,
    model,
    storage,
    sessions: new SessionStore({ secure: issuer.startsWith('https:') }),
    loginThrottle: new LoginThrottle(),
    logger,
  };
}

/** The registration's audit events go to the log; a deleted client loses its tokens (RFC 7592 §2.3). */
function onRegistrationEvent(event: AuditEvent, storage: ServerStorage, logger: Logger): void {
  // Reads change nothing and can be frequent; they are debug. Every change and refusal is info.
  const level = event.type === 'client.read' ? 'debug' : 'info';
  if (level === 'debug' && !logger.isLevelEnabled('debug')) return;
  logger[level]({ event: event.type, clientId: event.clientId, actor: event.actor, detail: event.detail }, 'registration event');
  if (event.type === 'client.deleted' && event.clientId) {
    storage.tokens.revokeClient(event.clientId, event.at)
      .catch((error: unknown) => logger.warn({ err: error, clientId: event.clientId }, 'revoking a deleted client\'s tokens failed'));
  }
}

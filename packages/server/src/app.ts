import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type RequestHandler } from 'express';
import type { Logger } from './logger.js';
import { expressRegistration } from 'oauth-dcr/express';
import type { ServerContext } from './context.js';
import { renderHomePage } from './pages/home.js';
import { PAGE_HEADERS } from './pages/layout.js';
import { adminRoutes } from './routes/admin.js';
import { attestationChallengeRoutes } from './routes/attestation-challenge.js';
import { authorizeRoutes } from './routes/authorize.js';
import { introspectionRoutes } from './routes/introspect.js';
import { jsonErrorHandler, notFound } from './routes/json-errors.js';
import { jwksRoutes } from './routes/jwks.js';
import { metadataRoutes } from './routes/metadata.js';
import { revocationRoutes } from './routes/revoke.js';
import { tokenRoutes } from './routes/token.js';
import { userinfoRoutes } from './routes/userinfo.js';

/** The Express application: routes by concern, and JSON for anything that is not a page. */
export function createApp(context: ServerContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLog(context));
  app.use((_req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });

  // RFC 7591 / RFC 7592, mounted before any body parser (the core reads its own body).
  app.use('/register', expressRegistration(context.registration));
  app.use(metadataRoutes(context));
  app.use(authorizeRoutes(context));
  app.use(tokenRoutes(context));
  app.use(attestationChallengeRoutes(context));
  app.use(revocationRoutes(context));
  app.use(introspectionRoutes(context, context.introspectionClients));
  app.use(jwksRoutes(context));
  app.use(userinfoRoutes(context));
  // The operators' pages (DCR_OPERATORS), behind their own sign-in.
  app.use(adminRoutes(context, { operators: context.operators }));
  app.get('/', (_req, res) => {
    res.status(200).set(PAGE_HEADERS).send(renderHomePage(context.issuer));
  });

  app.use(notFound);
  app.use(jsonErrorHandler(context.logger));
  return app;
}

function requestLog(context: ServerContext): RequestHandler {
  return (req, res, next) => {
    logRequest(context.logger, req, res, req.originalUrl);
    next();
  };
}

/** One log line per request: method, path without the query (it holds codes and state), status, time. */
export function logRequest(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  url = req.url ?? '/',
  level: 'info' | 'debug' = 'info',
): void {
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    logger[level](
      { method: req.method, path: url.split('?', 1)[0], status: res.statusCode, ms: Math.round(ms * 10) / 10 },
      'request',
    );
  });
}

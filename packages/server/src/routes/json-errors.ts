import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import type { Logger } from '../logger.js';

/**
 * JSON errors for the API routes, in the RFC 6749 §5.2 shape `{error, error_description}`.
 * Express's own HTML error pages never reach a client: unknown paths get `notFound`, and anything
 * thrown ends in `jsonErrorHandler`.
 */

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export function sendJsonError(
  res: ServerResponse,
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error, error_description: description }, { ...NO_STORE, ...headers });
}

/**
 * A JSON answer through node:http alone, so the routes served ahead of Express (src/server/server.ts)
 * and those inside it answer the same way. Headers set earlier (CORS, nosniff) are kept.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(json)),
  });
  res.end(json);
}

/**
 * An error from @node-oauth/oauth2-server. `invalid_client` is always 401 (RFC 6749 §5.2 allows
 * it, and requires it when the client used the Authorization header), with a challenge as HTTP
 * requires for 401. The library's server_error (503) and argument errors are our faults: logged,
 * and answered as a plain 500.
 */
export function sendOAuthError(
  res: ServerResponse,
  error: unknown,
  logger: Logger,
  challenge = 'Basic realm="oauth-dcr"',
): void {
  if (error instanceof OAuth2Server.OAuthError && error.code < 500 && error.name !== 'invalid_argument') {
    if (error.name === 'invalid_client') {
      sendJsonError(res, 401, 'invalid_client', error.message, { 'WWW-Authenticate': challenge });
      return;
    }
    sendJsonError(res, error.code, error.name, error.message);
    return;
  }
  const inner = error instanceof OAuth2Server.OAuthError ? ((error as { inner?: unknown }).inner ?? error) : error;
  logger.error({ err: inner }, 'unexpected error in an OAuth endpoint');
  sendJsonError(res, 500, 'server_error', 'The server could not complete the request');
}

/** RFC 6749 §3.1 / §3.2: request parameters MUST NOT be included more than once. */
export function findRepeatedParameter(...sources: Array<Record<string, unknown> | undefined>): string | undefined {
  for (const source of sources) {
    if (!source) continue;
    for (const [name, value] of Object.entries(source)) if (Array.isArray(value)) return name;
  }
  return undefined;
}

export const notFound: RequestHandler = (req, res) => {
  // Only OAuth error codes go on the wire (RFC 6749 §5.2): an unknown path is an invalid request.
  sendJsonError(res, 404, 'invalid_request', `Nothing at ${req.method} ${req.path}`);
};

export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = httpStatusOf(error);
    if (status !== undefined && status >= 400 && status < 500) {
      // body-parser and router errors (malformed, wrong charset or encoding, too large): an
      // RFC 6749 §5.2 invalid_request, 400, except that "too large" keeps its 413.
      const description =
        error instanceof Error && (error as { expose?: boolean }).expose !== false
          ? error.message
          : 'Malformed request';
      sendJsonError(res, status === 413 ? 413 : 400, 'invalid_request', description);
      return;
    }
    logger.error({ err: error }, 'unhandled error');
    sendJsonError(res, 500, 'server_error', 'The server could not complete the request');
  };
}

export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : undefined;
  return value;
}

/**
 * CORS for the endpoints browser-based clients call directly (metadata, token, revocation,
 * userinfo). None of them uses cookies, so any origin may read the answers. Returns true when
 * it has answered a preflight.
 */
export function answerApiCors(req: IncomingMessage, res: ServerResponse): boolean {
  res.setHeader('Access-Control-Allow-Origin', '*');
  // §6.2: a fresh challenge may come with any answer; a script may only read it once exposed.
  res.setHeader('Access-Control-Expose-Headers', 'OAuth-Client-Attestation-Challenge');
  if (req.method !== 'OPTIONS') return false;
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    // The attestation headers (draft-ietf-oauth-attestation-based-client-auth §5.1) are sent by
    // browser-based attested clients too.
    'Access-Control-Allow-Headers':
      'Authorization, Content-Type, MCP-Protocol-Version, OAuth-Client-Attestation, OAuth-Client-Attestation-PoP',
    'Access-Control-Max-Age': '600',
  });
  res.end();
  return true;
}

export const apiCors: RequestHandler = (req, res, next) => {
  if (!answerApiCors(req, res)) next();
};

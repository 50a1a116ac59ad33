import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { Router } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import { holdToClientAssertion, holdToRegisteredAuthMethod } from 'oauth-dcr/oauth2-server';
import { readClientCredentials, type PresentedClientCredentials } from 'oauth-dcr';
import type { ServerContext } from '../context.js';
import { resourceValues } from '../resources.js';
import { forRequestedResources } from '../token-resources.js';
import { answerApiCors, findRepeatedParameter, sendJson, sendJsonError, sendOAuthError } from './json-errors.js';

export const FORM_BODY = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 100 });

/** body-parser's middleware is plain connect: it runs on node:http's request and response. */
const parseForm = FORM_BODY as unknown as (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

type Form = Record<string, string | string[]>;

/**
 * The token endpoint (RFC 6749 §3.2), run by @node-oauth/oauth2-server, as a node:http handler.
 * Every client hits it after registering, so the reference server serves it ahead of Express
 * (src/server/server.ts), as it does /register; the Express app mounts the same handler.
 *
 * Client authentication is decided by the model's getClient: the library is told that
 * authorization_code and refresh_token do not require a secret, and getClient refuses
 * confidential clients that sent none (a PKCE verifier does not authenticate a client). For this
 * request the model is wrapped so that getClient also holds the client to the
 * token_endpoint_auth_method it registered (RFC 7591 §2, src/integrations/oauth2-server.ts).
 */
export function tokenEndpoint(context: ServerContext): (req: IncomingMessage, res: ServerResponse) => void {
  const supportedGrants = new Set(context.registration.serverMetadata().grant_types_supported);

  async function issue(req: IncomingMessage & { body?: Form }, res: ServerResponse, query: Form): Promise<void> {
    if (!isFormContentType(req.headers['content-type'])) {
      sendJsonError(
        res,
        400,
        'invalid_request',
        'Content-Type must be application/x-www-form-urlencoded (RFC 6749 §4.1.3)',
      );
      return;
    }
    const body = req.body ?? {};
    // RFC 8707 §2.2 lets `resource` repeat; one audience per token is decided with the grant.
    const { resource, ...single } = body;
    const repeated = findRepeatedParameter(single, query);
    if (repeated) {
      sendJsonError(res, 400, 'invalid_request', `The ${repeated} parameter appears more than once`);
      return;
    }
    // RFC 6749 §5.2: a grant this server does not run is unsupported_grant_type, whoever asks
    // (the library would first try to authenticate the client, for a grant it will never run).
    const grantType = body.grant_type;
    if (typeof grantType !== 'string' || grantType === '') {
      sendJsonError(res, 400, 'invalid_request', 'The grant_type parameter is missing');
      return;
    }
    if (!supportedGrants.has(grantType)) {
      sendJsonError(res, 400, 'unsupported_grant_type', `The ${grantType} grant is not supported by this server`);
      return;
    }
    const requested = resourceValues(resource) ?? [];
    const credentials = readClientCredentials({ authorization: req.headers.authorization, body });
    if (credentials.kind === 'invalid') {
      sendJsonError(res, 400, 'invalid_request', credentials.description);
      return;
    }
    const request = new OAuth2Server.Request(libraryRequest(req, body, query, credentials));
    const response = new OAuth2Server.Response();
    // With no client_id at all the library refuses by itself (invalid_client).
    const model = forRequestedResources(context.model, requested, context.resources);
    // private_key_jwt (RFC 7523 §2.2): the verified assertion is the client's authentication, so
    // the library is told this grant needs no secret; the wrapped model refuses the client
    // without a verified assertion, its jti used once.
    const options =
      credentials.kind !== 'credentials'
        ? { model }
        : credentials.method === 'private_key_jwt'
          ? {
              model: holdToClientAssertion(model, context.registration, credentials),
              requireClientAuthentication: { [grantType]: false },
            }
          : { model: holdToRegisteredAuthMethod(model, credentials.method) };
    try {
      // The library's token() takes a per-call model; its type definitions omit it.
      await context.oauth.token(request, response, options as OAuth2Server.TokenOptions);
    } catch (error) {
      sendOAuthError(res, error, context.logger);
      return;
    }
    sendJson(res, response.status ?? 200, response.body, (response.headers ?? {}) as Record<string, string>);
  }

  return (req, res) => {
    if (answerApiCors(req, res)) return;
    if (req.method !== 'POST') {
      req.resume();
      sendJsonError(res, 405, 'invalid_request', 'Use POST at the token endpoint', { Allow: 'POST, OPTIONS' });
      return;
    }
    parseForm(req, res, (error) => {
      if (error !== undefined) {
        sendFormError(res, error);
        return;
      }
      issue(req, res, queryOf(req)).catch((failure: unknown) => sendOAuthError(res, failure, context.logger));
    });
  };
}

/** The Express app serves the same endpoint, so that createApp() alone is a complete server. */
export function tokenRoutes(context: ServerContext): Router {
  const router = Router();
  const endpoint = tokenEndpoint(context);
  router.all('/token', (req, res) => endpoint(req, res));
  return router;
}

/** RFC 6749 §3.2 / Appendix B: the form media type, with or without a charset. */
function isFormContentType(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/** Query parameters, a repeated one as an array (as the body parser gives the body's). */
function queryOf(req: IncomingMessage): Form {
  const query: Form = {};
  const search = (req.url ?? '').indexOf('?');
  if (search < 0) return query;
  for (const [name, value] of new URLSearchParams((req.url ?? '').slice(search + 1))) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/**
 * The body parser's refusals (malformed, wrong charset, too large, too many parameters) as RFC
 * 6749 §5.2 invalid_request: 413 when too large, 400 otherwise.
 */
function sendFormError(res: ServerResponse, error: unknown): void {
  const status = (error as { status?: unknown }).status;
  const expose = (error as { expose?: unknown }).expose !== false && error instanceof Error;
  sendJsonError(res, status === 413 ? 413 : 400, 'invalid_request', expose ? error.message : 'Malformed request');
}

/**
 * The request as the library should see it. HTTP Basic credentials are form-urlencoded before
 * base64 (RFC 6749 §2.3.1), and RFC-following clients (openid-client) encode every "-" of a UUID
 * client_id as %2D; the library's Basic parser does not decode them. So the credentials are
 * decoded here and handed over as body parameters, which the library reads the same way.
 */
function libraryRequest(req: IncomingMessage, form: Form, query: Form, credentials: PresentedClientCredentials) {
  const headers = { ...req.headers } as Record<string, string>;
  const body = { ...form } as Record<string, string>;
  if (credentials.kind === 'credentials' && credentials.method === 'private_key_jwt') {
    // An assertion may omit client_id (RFC 7521 §4.2); the library reads it from the body.
    body.client_id = credentials.clientId;
  } else if (credentials.kind === 'credentials' && headers.authorization !== undefined) {
    delete headers.authorization;
    body.client_id = credentials.clientId;
    if (credentials.clientSecret !== undefined) body.client_secret = credentials.clientSecret;
  }
  return { headers, method: req.method ?? 'POST', query: query as Record<string, string>, body };
}

import express, { Router, type Request } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import { matchResource } from '../authorization-request.js';
import type { ServerContext } from '../context.js';
import { readClientCredentials, type ClientCredentials } from './client-credentials.js';
import { apiCors, findRepeatedParameter, sendJsonError, sendOAuthError } from './json-errors.js';

export const FORM_BODY = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 100 });

/**
 * The token endpoint (RFC 6749 §3.2), run by @node-oauth/oauth2-server. Client authentication is
 * decided by the model's getClient: the library is told that authorization_code and
 * refresh_token do not require a secret, and getClient refuses confidential clients that sent
 * none (a PKCE verifier does not authenticate a client).
 */
export function tokenRoutes(context: ServerContext): Router {
  const router = Router();
  const supportedGrants = new Set(context.registration.serverMetadata().grant_types_supported);
  router.all('/token', apiCors);
  router.post('/token', FORM_BODY, async (req, res) => {
    if (!req.is('application/x-www-form-urlencoded')) {
      sendJsonError(res, 400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded (RFC 6749 §4.1.3)');
      return;
    }
    const repeated = findRepeatedParameter(req.body as Record<string, unknown> | undefined, req.query);
    if (repeated) {
      sendJsonError(res, 400, 'invalid_request', `The ${repeated} parameter appears more than once`);
      return;
    }
    // RFC 6749 §5.2: a grant this server does not run is unsupported_grant_type, whoever asks
    // (the library would first try to authenticate the client, for a grant it will never run).
    const grantType = (req.body as Record<string, unknown> | undefined)?.grant_type;
    if (typeof grantType !== 'string' || grantType === '') {
      sendJsonError(res, 400, 'invalid_request', 'The grant_type parameter is missing');
      return;
    }
    if (!supportedGrants.has(grantType)) {
      sendJsonError(res, 400, 'unsupported_grant_type', `The ${grantType} grant is not supported by this server`);
      return;
    }
    // RFC 8707 §2.2: a resource this server does not serve is invalid_target.
    const resource = (req.body as Record<string, unknown> | undefined)?.resource;
    if (typeof resource === 'string' && resource !== '' && !matchResource(resource, [context.resource])) {
      sendJsonError(res, 400, 'invalid_target', 'The requested resource is not served by this authorization server');
      return;
    }
    const credentials = readClientCredentials(req);
    if (credentials.kind === 'invalid') {
      sendJsonError(res, 400, 'invalid_request', credentials.description);
      return;
    }
    const request = new OAuth2Server.Request(libraryRequest(req, credentials));
    const response = new OAuth2Server.Response();
    try {
      await context.oauth.token(request, response);
    } catch (error) {
      sendOAuthError(res, error, context.logger);
      return;
    }
    res.status(response.status ?? 200).set(response.headers ?? {}).json(response.body);
  });
  router.all('/token', (_req, res) => {
    sendJsonError(res, 405, 'invalid_request', 'Use POST at the token endpoint', { Allow: 'POST, OPTIONS' });
  });
  return router;
}

/**
 * The request as the library should see it. HTTP Basic credentials are form-urlencoded before
 * base64 (RFC 6749 §2.3.1), and RFC-following clients (openid-client) encode every "-" of a UUID
 * client_id as %2D; the library's Basic parser does not decode them. So the credentials are
 * decoded here and handed over as body parameters, which the library reads the same way.
 */
function libraryRequest(req: Request, credentials: ClientCredentials) {
  const headers = { ...req.headers } as Record<string, string>;
  const body = { ...((req.body ?? {}) as Record<string, string>) };
  if (credentials.kind === 'credentials' && headers.authorization !== undefined) {
    delete headers.authorization;
    body.client_id = credentials.clientId;
    if (credentials.clientSecret !== undefined) body.client_secret = credentials.clientSecret;
  }
  return { headers, method: req.method, query: req.query as Record<string, string>, body };
}

import express, { Router } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import { matchResource } from '../authorization-request.js';
import type { ServerContext } from '../context.js';
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
    const request = new OAuth2Server.Request({
      headers: req.headers as Record<string, string>,
      method: req.method,
      query: req.query as Record<string, string>,
      body: req.body ?? {},
    });
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

import { Router, type Request, type Response } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import { endpoint, type ServerContext } from '../context.js';
import type { GrantSubject } from '../model.js';
import { normalizeResource } from '../resources.js';
import { apiCors, sendJsonError, sendOAuthError } from './json-errors.js';
import { FORM_BODY } from './token.js';

/**
 * The protected resource: who the token is for. The bearer token is checked by the library's
 * authenticate handler through the model, which also checks that the client still exists.
 * A 401 names the protected resource metadata (RFC 9728 §5.1), which is how MCP clients find
 * the authorization server.
 */
export function userinfoRoutes(context: ServerContext): Router {
  const router = Router();
  const challenge = (error?: string) =>
    [
      `Bearer realm="${context.issuer}"`,
      ...(error ? [`error="${error}"`] : []),
      `resource_metadata="${endpoint(context, '/.well-known/oauth-protected-resource')}"`,
    ].join(', ');

  const handle = async (req: Request, res: Response) => {
    const request = new OAuth2Server.Request({
      headers: req.headers as Record<string, string>,
      method: req.method,
      query: req.query as Record<string, string>,
      body: req.body ?? {},
    });
    let token: OAuth2Server.Token;
    try {
      token = await context.oauth.authenticate(request, new OAuth2Server.Response());
    } catch (error) {
      if (error instanceof OAuth2Server.UnauthorizedRequestError) {
        // RFC 6750 §3.1: no credentials at all gets a challenge without an error code.
        sendJsonError(res, 401, 'invalid_token', 'A bearer access token is required', {
          'WWW-Authenticate': challenge(),
        });
      } else if (error instanceof OAuth2Server.InvalidTokenError) {
        sendJsonError(res, 401, 'invalid_token', 'The access token is invalid, expired or revoked', {
          'WWW-Authenticate': challenge('invalid_token'),
        });
      } else if (error instanceof OAuth2Server.InvalidRequestError) {
        sendJsonError(res, 400, 'invalid_request', error.message, { 'WWW-Authenticate': challenge('invalid_request') });
      } else {
        sendOAuthError(res, error, context.logger);
      }
      return;
    }
    const subject = token.user as GrantSubject;
    // RFC 8707 §2.2: a token for another resource (an MCP server) is no good here; only one for
    // this server, or one without a resource audience.
    if (subject.audience !== undefined && normalizeResource(subject.audience) !== normalizeResource(context.resource)) {
      sendJsonError(res, 401, 'invalid_token', 'The access token is for another resource', {
        'WWW-Authenticate': challenge('invalid_token'),
      });
      return;
    }
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json({
      sub: subject.user?.id ?? token.client.id,
      ...(subject.user ? { preferred_username: subject.user.username } : {}),
      client_id: token.client.id,
      ...(token.scope && token.scope.length > 0 ? { scope: token.scope.join(' ') } : {}),
    });
  };

  router.all('/userinfo', apiCors);
  router.get('/userinfo', handle);
  router.post('/userinfo', FORM_BODY, handle);
  return router;
}

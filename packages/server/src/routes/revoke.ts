import { Router } from 'express';
import { hashSecret } from 'oauth-dcr';
import type { ServerContext } from '../context.js';
import { authenticateWithinLimits, readClientForm } from './client-authentication.js';
import { apiCors, sendJsonError } from './json-errors.js';
import { FORM_BODY } from './token.js';

/**
 * RFC 7009 token revocation. The client authenticates as at the token endpoint (§2.1), with the
 * method it registered (a public client names itself with client_id). Unknown tokens get 200 (§2.2): the answer never tells whether a
 * token existed. Revoking a refresh token also revokes the access tokens of its grant (§2.1).
 */
export function revocationRoutes(context: ServerContext): Router {
  const router = Router();
  router.all('/revoke', apiCors);
  router.post('/revoke', FORM_BODY, async (req, res) => {
    const form = readClientForm(req, res);
    if (!form) return;
    const { body, credentials } = form;
    if (credentials.kind === 'missing') {
      sendJsonError(res, 401, 'invalid_client', 'Client authentication is required', {
        'WWW-Authenticate': 'Basic realm="oauth-dcr"',
      });
      return;
    }
    // A failed credential is counted (per client_id and address) and answered 401, or 429 over a limit.
    const client = await authenticateWithinLimits(context, req, res, credentials, 'revocation', (description) =>
      sendJsonError(res, 401, 'invalid_client', description, { 'WWW-Authenticate': 'Basic realm="oauth-dcr"' }),
    );
    if (!client) return;
    if (typeof body.token !== 'string' || body.token === '') {
      sendJsonError(res, 400, 'invalid_request', 'The token parameter is missing');
      return;
    }
    const record = await context.storage.tokens.findToken(hashSecret(body.token));
    if (record) {
      // §2.1: the server verifies the token was issued to the client making the request.
      if (record.clientId !== client.id) {
        sendJsonError(res, 400, 'invalid_request', 'The token was not issued to this client');
        return;
      }
      const at = Math.floor(Date.now() / 1000);
      if (record.kind === 'refresh') await context.storage.tokens.revokeGrant(record.grantId, at);
      else await context.storage.tokens.revokeToken(record.tokenHash, at);
    }
    res.status(200).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).end();
  });
  router.all('/revoke', (_req, res) => {
    sendJsonError(res, 405, 'invalid_request', 'Use POST at the revocation endpoint', { Allow: 'POST, OPTIONS' });
  });
  return router;
}

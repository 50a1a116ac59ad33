import type { Request, Response } from 'express';
import { readClientCredentials, type PresentedClientCredentials } from 'oauth-dcr';
import { holdToClientAssertion, holdToRegisteredAuthMethod, type OAuth2ServerClient } from 'oauth-dcr/oauth2-server';
import type { ServerContext } from '../context.js';
import { findRepeatedParameter, sendJsonError } from './json-errors.js';

/** A client-authenticated form request (RFC 7009 §2.1, RFC 7662 §2.1), read but not yet checked. */
export interface ClientForm {
  body: Record<string, unknown>;
  credentials: Exclude<PresentedClientCredentials, { kind: 'invalid' }>;
}

/**
 * The form body and the client credentials of a revocation or introspection request. A request
 * that is malformed before any client is looked up (wrong media type, a repeated parameter, two
 * authentication methods at once, RFC 6749 §2.3) is answered here with 400 invalid_request, and
 * undefined is returned.
 */
export function readClientForm(req: Request, res: Response): ClientForm | undefined {
  if (!req.is('application/x-www-form-urlencoded')) {
    sendJsonError(res, 400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    return undefined;
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  const repeated = findRepeatedParameter(body);
  if (repeated) {
    sendJsonError(res, 400, 'invalid_request', `The ${repeated} parameter appears more than once`);
    return undefined;
  }
  const credentials = readClientCredentials({ authorization: req.headers.authorization, body });
  if (credentials.kind === 'invalid') {
    sendJsonError(res, 400, 'invalid_request', credentials.description);
    return undefined;
  }
  return { body, credentials };
}

/**
 * Client authentication for the endpoints that need it outside the token endpoint (RFC 7009
 * revocation, RFC 7662 introspection), exactly as at /token: a secret by the method the client
 * registered (RFC 7591 §2), or a JWT client assertion (private_key_jwt, RFC 7523 §2.2) verified
 * by the library, its jti used once across every instance (ref_used_client_assertions).
 *
 * Resolves the client, or null when authentication failed; throws the library's
 * InvalidClientError when the client used a method it did not register, or its assertion was
 * refused (the reason is the error's message).
 */
export async function authenticateClient(
  context: Pick<ServerContext, 'model' | 'registration'>,
  credentials: Extract<PresentedClientCredentials, { kind: 'credentials' }>,
): Promise<OAuth2ServerClient | null> {
  if (credentials.method === 'private_key_jwt') {
    return holdToClientAssertion(context.model, context.registration, credentials).getClient(
      credentials.clientId,
      undefined,
    );
  }
  return holdToRegisteredAuthMethod(context.model, credentials.method).getClient(
    credentials.clientId,
    credentials.clientSecret,
  );
}

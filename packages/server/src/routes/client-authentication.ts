import type { IncomingMessage, ServerResponse } from 'node:http';
import OAuth2Server from '@node-oauth/oauth2-server';
import type { Request, Response } from 'express';
import { readClientCredentials, type PresentedClientCredentials, type RateLimitRefusal } from 'oauth-dcr';
import { holdToClientAssertion, holdToRegisteredAuthMethod, type OAuth2ServerClient } from 'oauth-dcr/oauth2-server';
import type { ServerContext } from '../context.js';
import { findRepeatedParameter, sendJsonError, sendOAuthError } from './json-errors.js';

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

/**
 * Client authentication under the failed-authentication limits (the library's
 * `authenticationLimits`), for /revoke and /introspect; the token endpoint applies the same two
 * steps around @node-oauth/oauth2-server. Before the credential is checked, an address that spent
 * its failure budget is refused (429); after a failure, the failure is counted for the client_id
 * and the address. Only failures count, so a client presenting its correct credential, from any
 * address that is not itself guessing, is never slowed by someone guessing its secret.
 *
 * Resolves the client, or undefined once the request has been answered: 429 over a limit, 401
 * invalid_client through `refuse` on a failed credential.
 */
export async function authenticateWithinLimits(
  context: Pick<ServerContext, 'model' | 'registration' | 'logger' | 'clientAddress'>,
  req: IncomingMessage,
  res: ServerResponse,
  credentials: Extract<PresentedClientCredentials, { kind: 'credentials' }>,
  endpoint: 'revocation' | 'introspection',
  refuse: (description: string) => void,
): Promise<OAuth2ServerClient | undefined> {
  const limits = context.registration.authenticationLimits;
  const address = context.clientAddress(req);
  const blocked = await limits.checkAddress(address, endpoint);
  if (blocked) {
    sendRateLimitRefusal(res, blocked);
    return undefined;
  }
  let client: OAuth2ServerClient | null;
  let failure: unknown;
  try {
    client = await authenticateClient(context, credentials);
  } catch (error) {
    // The registered method was not the one used, or the assertion was refused: a failure too.
    if (!(error instanceof OAuth2Server.OAuthError && error.name === 'invalid_client')) {
      sendOAuthError(res, error, context.logger);
      return undefined;
    }
    client = null;
    failure = error;
  }
  if (client) return client;
  const refusal = await limits.recordFailure({ clientId: credentials.clientId, address, endpoint });
  if (refusal) sendRateLimitRefusal(res, refusal);
  else if (failure !== undefined) sendOAuthError(res, failure, context.logger);
  else refuse('Client authentication failed');
  return undefined;
}

/**
 * A limit's refusal as every error is answered: its status (429, or 503 when the counters are
 * down and the limits fail closed), Retry-After (RFC 6585 §4) and the JSON error body.
 */
export function sendRateLimitRefusal(res: ServerResponse, refusal: RateLimitRefusal): void {
  const { error } = refusal;
  sendJsonError(res, error.status, error.code, error.description, {
    ...error.headers,
    'Retry-After': String(refusal.retryAfter),
  });
}

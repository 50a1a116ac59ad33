import type { IncomingMessage, ServerResponse } from 'node:http';
import OAuth2Server from '@node-oauth/oauth2-server';
import type { Request, Response } from 'express';
import { readClientCredentials, type PresentedClientCredentials, type RateLimitRefusal } from 'oauth-dcr';
import { holdToClientAssertion, holdToRegisteredAuthMethod, type OAuth2ServerClient } from 'oauth-dcr/oauth2-server';
import type { ServerContext } from '../context.js';
import { findRepeatedParameter, sendJsonError, sendOAuthError } from './json-errors.js';
import { attestationHeadersOf, authenticateByAttestation, sendAttestationRefusal } from './client-attestation.js';
import { decodeJwt } from 'jose';

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
  // Attestation draft §7.5: without client_id, the client is named by the attestation's sub (read
  // here to find it; authenticateWithinLimits verifies the attestation for that client).
  if (credentials.kind === 'missing') {
    const named = attestedClientId(req);
    if (named !== undefined) return { body, credentials: { kind: 'credentials', clientId: named, method: 'none' } };
  }
  return { body, credentials };
}

/** The `sub` of a single OAuth-Client-Attestation header, unverified; undefined when there is none. */
function attestedClientId(req: Request): string | undefined {
  const values = req.headersDistinct['oauth-client-attestation'];
  if (values?.length !== 1) return undefined;
  try {
    const sub = decodeJwt(values[0]!).sub;
    return typeof sub === 'string' && sub !== '' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Client authentication for the endpoints that need it outside the token endpoint (RFC 7009
 * revocation, RFC 7662 introspection), exactly as at /token: a secret by the method the client
 * registered (RFC 7591 §2), or a JWT client assertion (private_key_jwt, RFC 7523 §2.2) verified
 * by the library, its jti used once across every instance (ref_used_client_assertions). A Client
 * Attestation (attest_jwt_client_auth) is handled by authenticateWithinLimits.
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
  context: Pick<ServerContext, 'model' | 'registration' | 'logger' | 'clientAddress' | 'clientAttestation'>,
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
  const verifier = context.clientAttestation;
  const attestation = attestationHeadersOf(req);
  if (verifier?.isPresented(attestation)) {
    // RFC 6749 §2.3, attestation draft §7.5: one authentication mechanism per request.
    if (credentials.method !== 'none') {
      sendJsonError(res, 400, 'invalid_request', 'Use one client authentication method, not two (RFC 6749 §2.3)');
      return undefined;
    }
    const result = await authenticateByAttestation(context, verifier, attestation, credentials.clientId);
    if (result.ok) return (await context.model.getClient(result.client.clientId, null)) ?? undefined;
    const refusal =
      result.error === 'invalid_client'
        ? await limits.recordFailure({ clientId: credentials.clientId, address, endpoint })
        : undefined;
    if (refusal) sendRateLimitRefusal(res, refusal);
    else sendAttestationRefusal(res, result);
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

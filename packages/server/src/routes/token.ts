import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { Router } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import { holdToAttestedClient, holdToClientAssertion, holdToRegisteredAuthMethod } from 'oauth-dcr/oauth2-server';
import { readClientCredentials, type PresentedClientCredentials } from 'oauth-dcr';
import type { ServerContext } from '../context.js';
import { resourceValues } from '../resources.js';
import { forInstanceKey, forRequestedResources } from '../token-resources.js';
import { sendRateLimitRefusal } from './client-authentication.js';
import {
  attestationHeadersOf,
  authenticateByAttestation,
  sendAttestationRefusal,
  type AttestationAuthentication,
} from './client-attestation.js';
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
 *
 * Failed client authentication (every invalid_client answer: a wrong secret, an unknown,
 * disabled or deleted client, a refused assertion) is counted per client_id and per address
 * (the library's authenticationLimits). An address over its failure budget is refused with 429
 * before its credential is checked; a correct credential from any other address always passes.
 *
 * Each answer is counted in the metrics by grant_type and outcome ('success' or the error code).
 */
export function tokenEndpoint(context: ServerContext): (req: IncomingMessage, res: ServerResponse) => void {
  const supportedGrants = new Set(context.registration.serverMetadata().grant_types_supported);

  const limits = context.registration.authenticationLimits;

  /** Answers a JSON error and resolves its code, for the metrics. */
  function refuse(res: ServerResponse, status: number, code: string, description: string): string {
    sendJsonError(res, status, code, description);
    return code;
  }

  /** Answers the request; resolves the grant type (when valid) and the outcome, for the metrics. */
  async function issue(
    req: IncomingMessage & { body?: Form },
    res: ServerResponse,
    query: Form,
  ): Promise<[grant: string, outcome: string]> {
    if (!isFormContentType(req.headers['content-type'])) {
      return [
        'unknown',
        refuse(res, 400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded (RFC 6749 §4.1.3)'),
      ];
    }
    const body = req.body ?? {};
    // RFC 8707 §2.2 lets `resource` repeat; one audience per token is decided with the grant.
    const { resource, ...single } = body;
    const repeated = findRepeatedParameter(single, query);
    if (repeated)
      return ['unknown', refuse(res, 400, 'invalid_request', `The ${repeated} parameter appears more than once`)];
    // RFC 6749 §5.2: a grant this server does not run is unsupported_grant_type, whoever asks
    // (the library would first try to authenticate the client, for a grant it will never run).
    const grantType = body.grant_type;
    if (typeof grantType !== 'string' || grantType === '')
      return ['unknown', refuse(res, 400, 'invalid_request', 'The grant_type parameter is missing')];
    if (!supportedGrants.has(grantType)) {
      const description = `The ${grantType} grant is not supported by this server`;
      // A label from the fixed set: never a value the client chose.
      return ['unknown', refuse(res, 400, 'unsupported_grant_type', description)];
    }
    const requested = resourceValues(resource) ?? [];
    const credentials = readClientCredentials({ authorization: req.headers.authorization, body });
    if (credentials.kind === 'invalid')
      return [grantType, refuse(res, 400, 'invalid_request', credentials.description)];
    // An address that spent its failure budget is refused before any credential is checked.
    const address = context.clientAddress(req);
    const blocked = await limits.checkAddress(address, 'token');
    if (blocked) {
      sendRateLimitRefusal(res, blocked);
      return [grantType, blocked.error.code];
    }
    // Client attestation (attest_jwt_client_auth): the two headers are the client's authentication.
    let attested: Extract<AttestationAuthentication, { ok: true }> | undefined;
    const verifier = context.clientAttestation;
    const attestationHeaders = attestationHeadersOf(req);
    if (verifier?.isPresented(attestationHeaders)) {
      // RFC 6749 §2.3 and the attestation draft §7.5: one authentication mechanism per request.
      if (credentials.kind === 'credentials' && credentials.method !== 'none') {
        return [
          grantType,
          refuse(res, 400, 'invalid_request', 'Use one client authentication method, not two (RFC 6749 §2.3)'),
        ];
      }
      const clientId = credentials.kind === 'credentials' ? credentials.clientId : undefined;
      const result = await authenticateByAttestation(context, verifier, attestationHeaders, clientId);
      if (!result.ok) {
        if (result.error === 'invalid_client') {
          const refusal = await limits.recordFailure({ ...(clientId ? { clientId } : {}), address, endpoint: 'token' });
          if (refusal) {
            sendRateLimitRefusal(res, refusal);
            return [grantType, refusal.error.code];
          }
        }
        sendAttestationRefusal(res, result);
        return [grantType, result.error];
      }
      attested = result;
    }
    const form = attested ? { ...body, client_id: attested.client.clientId } : body;
    const request = new OAuth2Server.Request(libraryRequest(req, form, query, credentials));
    const response = new OAuth2Server.Response();
    // With no client_id at all the library refuses by itself (invalid_client). Refresh tokens are
    // bound to the attested instance key, if any (attestation draft §9.3).
    const model = forInstanceKey(
      forRequestedResources(context.model, requested, context.resources),
      attested?.instanceKeyThumbprint,
    );
    // private_key_jwt (RFC 7523 §2.2) and attestations: the verified credential is the client's
    // authentication, so the library is told this grant needs no secret; the wrapped model
    // refuses any other client, and (assertions) a client without a verified assertion, its jti
    // used once.
    const options = attested
      ? {
          model: holdToAttestedClient(model, context.registration, attested.client),
          requireClientAuthentication: { [grantType]: false },
        }
      : credentials.kind !== 'credentials'
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
      if (error instanceof OAuth2Server.OAuthError && error.name === 'invalid_client') {
        const clientId = credentials.kind === 'credentials' ? credentials.clientId : undefined;
        const refusal = await limits.recordFailure({ ...(clientId ? { clientId } : {}), address, endpoint: 'token' });
        if (refusal) {
          sendRateLimitRefusal(res, refusal);
          return [grantType, refusal.error.code];
        }
      }
      const answered = withRfcErrorCode(error);
      sendOAuthError(res, answered, context.logger);
      return [grantType, oauthErrorCode(answered)];
    }
    const headers = (response.headers ?? {}) as Record<string, string>;
    // Attestation draft §6.2: a fresh challenge with the answer saves the client a round trip.
    const challenges = attested ? context.clientAttestation?.challenges : undefined;
    if (challenges) headers['OAuth-Client-Attestation-Challenge'] = challenges.issue();
    sendJson(res, response.status ?? 200, response.body, headers);
    return [grantType, 'success'];
  }

  const record = ([grant, outcome]: [string, string]) => context.metrics.tokenRequest(grant, outcome);

  return (req, res) => {
    if (answerApiCors(req, res)) return;
    if (req.method !== 'POST') {
      req.resume();
      sendJsonError(res, 405, 'invalid_request', 'Use POST at the token endpoint', { Allow: 'POST, OPTIONS' });
      record(['unknown', 'invalid_request']);
      return;
    }
    parseForm(req, res, (error) => {
      if (error !== undefined) {
        sendFormError(res, error);
        record(['unknown', 'invalid_request']);
        return;
      }
      issue(req, res, queryOf(req)).then(record, (failure: unknown) => {
        sendOAuthError(res, failure, context.logger);
        record(['unknown', 'server_error']);
      });
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

/**
 * RFC 6749 §5.2: a grant that "does not match the redirection URI used in the authorization
 * request" is invalid_grant. @node-oauth/oauth2-server 5.x throws invalid_request for it (its
 * message is the only thing telling this case apart from a malformed redirect_uri).
 */
function withRfcErrorCode(error: unknown): unknown {
  if (
    error instanceof OAuth2Server.InvalidRequestError &&
    error.message === 'Invalid request: `redirect_uri` is invalid'
  ) {
    return new OAuth2Server.InvalidGrantError('Invalid grant: `redirect_uri` does not match the authorization request');
  }
  return error;
}

/** The OAuth error code an error is answered with (as sendOAuthError answers it). */
function oauthErrorCode(error: unknown): string {
  return error instanceof OAuth2Server.OAuthError && error.code < 500 && error.name !== 'invalid_argument'
    ? error.name
    : 'server_error';
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

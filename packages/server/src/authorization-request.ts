import type { OAuth2ServerClient, OAuth2ServerClientModel } from 'oauth-dcr/oauth2-server';
import { classifyRedirectUri, type ClientLookup } from 'oauth-dcr';
import { InvalidTarget, resourceValues, type ResourcePolicy } from './resources.js';

/**
 * Validation of an authorization request (RFC 6749 §4.1.1), in the order that keeps the endpoint
 * from being an open redirector (RFC 6749 §4.1.2.1, RFC 9700 §4.11): first the client and its
 * redirect URI, and every failure up to there is shown on a page. Only once both are trusted may
 * an error travel to the redirect URI. PKCE problems are shown on a page too: they are the
 * client developer's mistake, and a page says so plainly.
 *
 * The redirect URI is trusted only once it both matches a registered one and is itself a
 * well-formed redirect URI by the registration engine's rules (a port outside 1-65535, say, can
 * never be redirected to): a malformed one is refused on a page here, before anything is stored.
 */
export interface AuthorizationRequest {
  /**
   * The authorization parameters as the client sent them (known names only). A login page carries
   * these instead of server-side state, and they are validated again when the form comes back.
   */
  parameters: Record<string, string>;
  clientId: string;
  redirectUri: string;
  /** RFC 6749 §4.1.3: whether redirect_uri was in the request (it must then be repeated at /token). */
  redirectUriSent: boolean;
  state?: string;
  /** The scope the client will get if the user agrees (already cut to what it may have). */
  scope: string[];
  codeChallenge?: string;
  codeChallengeMethod?: 'S256';
  /**
   * RFC 8707 §2: the resources the client asked for, canonical; the default resource when it
   * asked for none, or empty (a token without a resource audience).
   */
  resources: string[];
}

export type AuthorizationRequestOutcome =
  | { kind: 'valid'; request: AuthorizationRequest; client: OAuth2ServerClient }
  /** Shown on a page; never sent to the client. */
  | { kind: 'page'; status: number; error: string; description: string }
  /** Sent to the (validated) redirect URI. */
  | { kind: 'redirect'; redirectUri: string; state?: string; error: string; description: string };

export interface AuthorizationRequestContext {
  clients: Pick<OAuth2ServerClientModel, 'getClient' | 'validateRedirectUri' | 'validateScope'>;
  /** RFC 8707: the resources this server issues tokens for. */
  resources: ResourcePolicy;
  /**
   * The registration's lookupClient: why a client_id that is a Client ID Metadata Document URL
   * cannot be used (the reason goes on the error page, never to a redirect URI).
   */
  lookupClient?: (clientId: string) => Promise<ClientLookup>;
}

type Query = Record<string, unknown>;

/** RFC 6749 Appendix A: VSCHAR = %x20-7E. */
const VSCHAR = /^[\x20-\x7e]+$/;
/** RFC 6749 Appendix A.4: scope-token = 1*NQCHAR. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** RFC 7636 §4.2: code-challenge = 43*128unreserved. */
const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;

class RepeatedParameter extends Error {}

/** The authorization request parameters this endpoint reads (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707 §2). */
export const AUTHORIZATION_PARAMETERS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
] as const;

/** RFC 6749 §3.1: request parameters MUST NOT be included more than once. */
function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new RepeatedParameter(name);
  return value === '' ? undefined : value;
}

export async function validateAuthorizationRequest(
  query: Query,
  context: AuthorizationRequestContext,
): Promise<AuthorizationRequestOutcome> {
  const page = (error: string, description: string, status = 400): AuthorizationRequestOutcome => ({
    kind: 'page',
    status,
    error,
    description,
  });

  // 1. The client.
  let clientId: string | undefined;
  let requestedRedirect: string | undefined;
  try {
    clientId = single(query, 'client_id');
    requestedRedirect = single(query, 'redirect_uri');
  } catch (error) {
    if (error instanceof RepeatedParameter)
      return page('invalid_request', `The ${error.message} parameter appears more than once.`);
    throw error;
  }
  if (!clientId)
    return page('invalid_request', 'The request has no client_id, so it cannot be matched to an application.');
  if (!VSCHAR.test(clientId) || clientId.length > 512) return page('invalid_request', 'The client_id is malformed.');
  // An https client_id names a metadata document: a refused one says why, on the page (CIMD §4.4).
  if (context.lookupClient && clientId.startsWith('https://')) {
    const lookup = await context.lookupClient(clientId);
    if (lookup.kind === 'refused')
      return page('invalid_client', `This application's metadata document cannot be used: ${lookup.description}`);
  }
  const client = await context.clients.getClient(clientId, null);
  if (!client)
    return page('invalid_client', 'No application is registered with this client_id. It may have been deleted.');

  // 2. Its redirect URI: exact match, or loopback with any port (RFC 8252 §7.3).
  let redirectUri: string;
  if (requestedRedirect === undefined) {
    // RFC 6749 §3.1.2.3: without redirect_uri, only a single registered URI is unambiguous.
    if (client.redirectUris.length !== 1) {
      return page(
        'invalid_request',
        'The request has no redirect_uri, and the application registered several (or none), so the server cannot tell where to send you.',
      );
    }
    redirectUri = client.redirectUris[0]!;
  } else {
    if (!(await context.clients.validateRedirectUri(requestedRedirect, client))) {
      return page(
        'invalid_request',
        'The redirect_uri in the request is not one this application registered, so the server will not send you there.',
      );
    }
    redirectUri = requestedRedirect;
  }
  // RFC 6749 §4.1.2.1: an invalid redirect URI is never redirected to. Matching alone is not
  // enough (a loopback URI matches on any port, and a URI registered before a rule existed may
  // be stored), so the URI is checked as registration would check it, and must parse.
  if (!isUsableRedirectUri(redirectUri)) {
    return page(
      'invalid_request',
      'The redirect_uri is not a valid redirect URI (for example, its port is outside 1-65535), so the server will not send you there.',
    );
  }

  // From here the redirect URI is trusted, but state must be echoable.
  let state: string | undefined;
  try {
    state = single(query, 'state');
  } catch {
    return page('invalid_request', 'The state parameter appears more than once.');
  }
  if (state !== undefined && !VSCHAR.test(state))
    return page('invalid_request', 'The state parameter contains characters that are not allowed.');
  const redirect = (error: string, description: string): AuthorizationRequestOutcome => ({
    kind: 'redirect',
    redirectUri,
    ...(state !== undefined ? { state } : {}),
    error,
    description,
  });

  let responseType: string | undefined;
  let scopeParam: string | undefined;
  let codeChallenge: string | undefined;
  let codeChallengeMethod: string | undefined;
  try {
    responseType = single(query, 'response_type');
    scopeParam = single(query, 'scope');
    codeChallenge = single(query, 'code_challenge');
    codeChallengeMethod = single(query, 'code_challenge_method');
  } catch (error) {
    return redirect('invalid_request', `The ${(error as Error).message} parameter appears more than once.`);
  }

  // 3. PKCE (RFC 7636; RFC 9700 §2.1.1): S256 only, and required for public clients.
  if (codeChallengeMethod !== undefined && codeChallengeMethod !== 'S256') {
    return page('invalid_request', `PKCE method "${codeChallengeMethod}" is not supported; use S256.`);
  }
  if (codeChallenge === undefined) {
    if (client.tokenEndpointAuthMethod === 'none') {
      return page(
        'invalid_request',
        'This application is a public client and must use PKCE: the request needs a code_challenge with code_challenge_method=S256.',
      );
    }
    if (codeChallengeMethod !== undefined)
      return page('invalid_request', 'code_challenge_method was sent without a code_challenge.');
  } else {
    if (!CODE_CHALLENGE.test(codeChallenge))
      return page('invalid_request', 'The code_challenge is malformed (RFC 7636 §4.2: 43-128 characters).');
    // RFC 7636 §4.3 would default a missing method to "plain", which this server refuses.
    if (codeChallengeMethod === undefined)
      return page(
        'invalid_request',
        'code_challenge_method=S256 is required with a code_challenge (plain is not supported).',
      );
  }

  // 4. What is asked for.
  if (responseType === undefined) return redirect('invalid_request', 'The response_type parameter is missing.');
  if (responseType !== 'code') return redirect('unsupported_response_type', 'Only response_type=code is supported.');
  if (!client.grants.includes('authorization_code')) {
    return redirect('unauthorized_client', 'This application did not register the authorization_code grant.');
  }

  const requestedScope = scopeParam === undefined ? [] : scopeParam.split(' ').filter((s) => s.length > 0);
  if (requestedScope.some((s) => !SCOPE_TOKEN.test(s)))
    return redirect('invalid_scope', 'The scope parameter is malformed.');
  const scope = await context.clients.validateScope(undefined, client, [...new Set(requestedScope)]);
  if (!scope) return redirect('invalid_scope', 'None of the requested scopes is available to this application.');

  // RFC 8707 §2: `resource` may repeat; a value the server does not serve is invalid_target.
  const requestedResources = resourceValues(query.resource);
  if (requestedResources === undefined) return redirect('invalid_target', 'The resource parameter is malformed.');
  let resources: string[];
  try {
    resources = context.resources.forAuthorization(requestedResources);
  } catch (error) {
    if (error instanceof InvalidTarget) return redirect('invalid_target', error.message);
    throw error;
  }

  const parameters: Record<string, string> = {};
  for (const name of AUTHORIZATION_PARAMETERS) {
    const value = query[name];
    if (typeof value === 'string' && value !== '') parameters[name] = value;
  }
  // The login form carries parameters as single fields: several resources travel space-joined
  // (a URI holds no space) and are split again by carriedParameters().
  if (requestedResources.length > 0) parameters.resource = requestedResources.join(' ');
  const request: AuthorizationRequest = {
    parameters,
    clientId: client.id,
    redirectUri,
    redirectUriSent: requestedRedirect !== undefined,
    scope,
    ...(state !== undefined ? { state } : {}),
    ...(codeChallenge !== undefined ? { codeChallenge, codeChallengeMethod: 'S256' as const } : {}),
    resources,
  };
  return { kind: 'valid', request, client };
}

/**
 * The authorization parameters a login form brought back, as a query: `resource` split into
 * its values again (see validateAuthorizationRequest).
 */
export function carriedParameters(form: Record<string, unknown>): Record<string, unknown> {
  const carried: Record<string, unknown> = {};
  for (const name of AUTHORIZATION_PARAMETERS) if (form[name] !== undefined) carried[name] = form[name];
  if (typeof carried.resource === 'string') carried.resource = carried.resource.split(' ');
  return carried;
}

/** Whether a (matched) redirect URI is well-formed by the registration engine's rules, and parses. */
export function isUsableRedirectUri(redirectUri: string): boolean {
  try {
    classifyRedirectUri(redirectUri, { requireHttps: false });
    new URL(redirectUri);
    return true;
  } catch {
    return false;
  }
}

/**
 * The redirect back to the client (RFC 6749 §4.1.2): the parameters are added to the registered
 * URI's own query, which is kept (§3.1.2), with `iss` (RFC 9207) on success and error alike.
 * Undefined when the URI cannot be a redirect target: the caller then shows a page, never a 500.
 */
export function buildClientRedirect(
  redirectUri: string,
  params: Record<string, string | undefined>,
): string | undefined {
  if (!isUsableRedirectUri(redirectUri)) return undefined;
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.href;
}

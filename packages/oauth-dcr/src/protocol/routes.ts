import { RegistrationError, isRegistrationError } from '../core/errors.js';
import type { Policy } from './policy.js';
import { registerClient } from './register.js';
import { deleteClient, readClient, renewClientSecret, updateClient } from './manage.js';
import { IncompleteBodyError, type RawRequest } from '../core/request.js';
import { corsHeaders, emptyResult, errorResult, type HttpResult } from '../core/response.js';

/**
 * Maps method and path to a step list: the collection (`{registrationPath}`, with or without a
 * trailing slash) takes POST; `{registrationPath}/{client_id}` is the RFC 7592 client
 * configuration endpoint; `{...}/{client_id}/secret` renews a secret (extension).
 */
export async function dispatch(policy: Policy, request: RawRequest): Promise<HttpResult> {
  const method = request.method.toUpperCase();
  const origin = request.header('origin');
  let result: HttpResult;
  try {
    result = await route(policy, request, method);
  } catch (error) {
    result = errorResult(toRegistrationError(policy, error));
  }
  Object.assign(result.headers, corsHeaders(policy.cors, origin, method === 'OPTIONS'));
  return result;
}

async function route(policy: Policy, request: RawRequest, method: string): Promise<HttpResult> {
  // Without an issuer, absolute URLs in answers (registration_client_uri) are built from the
  // request's URL: one no URL parser accepts (a bad Host) is refused before anything is stored.
  if (policy.issuer === undefined) checkRequestUrl(request.url);
  const target = resolveTarget(policy, pathOf(request));
  if (method === 'OPTIONS') return emptyResult(204, { Allow: allowFor(target) });
  switch (target.kind) {
    case 'collection':
      if (method === 'POST') return registerClient(policy, request);
      throw methodNotAllowed(method, target);
    case 'client':
      if (method === 'GET') return readClient(policy, request, target.clientId);
      if (method === 'PUT') return updateClient(policy, request, target.clientId);
      if (method === 'DELETE') return deleteClient(policy, request, target.clientId);
      throw methodNotAllowed(method, target);
    case 'secret':
      if (method === 'POST') return renewClientSecret(policy, request, target.clientId);
      throw methodNotAllowed(method, target);
    case 'none':
      // No OAuth code means "no such resource": invalid_request (RFC 6749 §5.2) with 404.
      throw new RegistrationError('invalid_request', 'No registration resource at this path', { status: 404 });
  }
}

type Target =
  | { kind: 'collection' }
  | { kind: 'client'; clientId: string }
  | { kind: 'secret'; clientId: string }
  | { kind: 'none' };

/** Dot segments (plain or percent-encoded), backslashes and controls, which a URL parser rewrites. */
const NEEDS_URL_PARSER = /\/\.|%2e|\\|[\x00-\x20\x7f]/i;

/**
 * The request's path. The node:http and Express adapters hand over the path as received, which
 * saves parsing the absolute URL on every request; anything a URL parser would normalise (dot
 * segments, backslashes, an absolute-form target) still goes through it.
 */
function pathOf(request: RawRequest): string {
  const raw = request.path;
  if (raw?.startsWith('/') && !NEEDS_URL_PARSER.test(raw)) {
    const query = raw.indexOf('?');
    const hash = raw.indexOf('#');
    const end = Math.min(query < 0 ? raw.length : query, hash < 0 ? raw.length : hash);
    return raw.slice(0, end);
  }
  return checkRequestUrl(request.url).pathname;
}

function checkRequestUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    // A Host header no URL can be built from, say; the client's fault, not ours.
    throw new RegistrationError('invalid_request', 'The request URL is malformed');
  }
}

function resolveTarget(policy: Policy, pathname: string): Target {
  const base = policy.registrationPath === '/' ? '' : policy.registrationPath;
  if (pathname === base || pathname === `${base}/`) return { kind: 'collection' };
  if (!pathname.startsWith(`${base}/`)) return { kind: 'none' };
  const segments = pathname.slice(base.length + 1).split('/');
  let clientId = segments[0] ?? '';
  if (clientId.includes('%')) {
    try {
      clientId = decodeURIComponent(clientId);
    } catch {
      return { kind: 'none' };
    }
  }
  if (clientId === '') return { kind: 'none' };
  if (segments.length === 1) return { kind: 'client', clientId };
  if (segments.length === 2 && segments[1] === 'secret') return { kind: 'secret', clientId };
  return { kind: 'none' };
}

function allowFor(target: Target): string {
  switch (target.kind) {
    case 'collection':
      return 'POST, OPTIONS';
    case 'client':
      return 'GET, PUT, DELETE, OPTIONS';
    case 'secret':
      return 'POST, OPTIONS';
    case 'none':
      return 'OPTIONS';
  }
}

/**
 * RFC 9110 §15.5.6: 405 names the allowed methods in `Allow`. The body keeps an OAuth code
 * (invalid_request, RFC 6749 §5.2): only RFC codes go on the wire.
 */
function methodNotAllowed(method: string, target: Target): RegistrationError {
  const allow = allowFor(target);
  return new RegistrationError('invalid_request', `Method ${method} is not allowed here (allowed: ${allow})`, {
    status: 405,
    headers: { Allow: allow },
  });
}

/**
 * Anything that is not a RegistrationError (or a body the client stopped sending) is a server
 * fault: it is answered as a generic JSON 500 (no stack, no message that could leak internals)
 * and reported through `onError`.
 */
function toRegistrationError(policy: Policy, error: unknown): RegistrationError {
  if (isRegistrationError(error)) return error;
  if (error instanceof IncompleteBodyError)
    return new RegistrationError('invalid_request', error.message, { cause: error });
  try {
    policy.onError(error);
  } catch {
    // Reporting must not turn one failure into two.
  }
  return new RegistrationError('server_error', 'The registration could not be completed', { cause: error });
}

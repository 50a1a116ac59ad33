import type { RegistrationError } from './errors.js';
import type { ResolvedOptions } from './options.js';

/** What the core answers; adapters turn it into a Web Response or write it to a ServerResponse. */
export interface HttpResult {
  /** The HTTP status code. */
  status: number;
  /** Response headers to send as they are (Content-Type, Cache-Control, CORS, WWW-Authenticate, ...). */
  headers: Record<string, string>;
  /** The body, JSON text; null for an answer without one (a 204 after a delete or a preflight). */
  body: string | null;
}

/** RFC 7591 §3.2.1 / RFC 6749 §5.1: registration responses carry credentials and must not be cached. */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;
/** Nothing here is meant to be rendered: never let a browser sniff a body into HTML. */
const NO_SNIFF = { 'X-Content-Type-Options': 'nosniff' } as const;

export function jsonResult(status: number, body: unknown, headers?: Record<string, string>): HttpResult {
  return serializedJsonResult(status, JSON.stringify(body), headers);
}

/** jsonResult for a body that is already JSON text. */
export function serializedJsonResult(status: number, json: string, headers?: Record<string, string>): HttpResult {
  // Written out rather than spread from the constants above: this runs on every answer.
  const all: Record<string, string> = {
    'Content-Type': 'application/json',
    'Cache-Control': NO_STORE['Cache-Control'],
    Pragma: NO_STORE.Pragma,
    'X-Content-Type-Options': NO_SNIFF['X-Content-Type-Options'],
  };
  if (headers !== undefined) Object.assign(all, headers);
  return { status, headers: all, body: json };
}

export function emptyResult(status: number, headers: Record<string, string> = {}): HttpResult {
  return { status, headers: { ...NO_STORE, ...headers }, body: null };
}

export function errorResult(error: RegistrationError): HttpResult {
  return jsonResult(error.status, error.toJSON(), error.headers);
}

const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';

/**
 * CORS for browser-based clients (MCP Inspector and web apps register from the browser). The
 * headers go on every answer, 201s and errors alike, or the browser hides the error body.
 */
export function corsHeaders(
  cors: ResolvedOptions['cors'],
  origin: string | undefined,
  preflight: boolean,
): Record<string, string> {
  if (cors === false) return {};
  let allowOrigin: string | undefined;
  if (cors === '*') allowOrigin = '*';
  else if (origin && cors.has(origin)) allowOrigin = origin;
  if (!allowOrigin) return {};
  const headers: Record<string, string> = { 'Access-Control-Allow-Origin': allowOrigin };
  if (allowOrigin !== '*') headers.Vary = 'Origin';
  if (preflight) {
    headers['Access-Control-Allow-Methods'] = ALLOWED_METHODS;
    headers['Access-Control-Allow-Headers'] = 'Authorization, Content-Type';
    headers['Access-Control-Max-Age'] = '600';
  }
  return headers;
}

export function toWebResponse(result: HttpResult): Response {
  return new Response(result.body, { status: result.status, headers: result.headers });
}

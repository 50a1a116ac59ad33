import { invalidClient } from './refusal.js';

/**
 * draft-ietf-oauth-client-id-metadata-document-01 §3: which client_id strings name a metadata
 * document. Checked on the raw string before any network traffic, because the WHATWG URL parser
 * "repairs" what it reads (backslashes, whitespace, dot segments, a missing `//`): the string the
 * document must repeat (§4.1) would then no longer be the one fetched.
 */

export interface ClientIdUrlRules {
  /** Accept a query component (§3: clients SHOULD NOT use one). */
  allowQuery: boolean;
  /** Longest client_id accepted, in characters. */
  maxLength: number;
}

/** §3: the scheme is https, compared case-insensitively, written with its `//`. */
const HTTPS_PREFIX = /^https:\/\//i;

/** Anything written as an https URL, even badly (`https:host/c`, a leading space). */
const HTTPS_LIKE = /^\s*https:/i;

/**
 * Whether `clientId` is meant as a document URL (it is written as an https URL), before any rule
 * is checked: a malformed one is then refused with its reason rather than simply unknown.
 */
export function isDocumentClientId(clientId: string): boolean {
  return HTTPS_LIKE.test(clientId);
}

/** Whitespace, control characters and backslashes, which URL parsing would silently rewrite. */
const REPAIRED_BY_PARSING = /[\s\u0000-\u001f\u007f-\u009f\\]/u;

/**
 * The document URL a client_id names, or a DocumentRefusal (`invalid_client`) saying which §3
 * rule it breaks. Ports are allowed (§3).
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-01#section-3
 */
export function checkClientIdUrl(clientId: string, rules: ClientIdUrlRules): URL {
  // Project default: a bound on what is parsed, fetched and cached.
  if (clientId.length > rules.maxLength) {
    throw invalidClient(`client_id URL is longer than ${rules.maxLength} characters`);
  }
  if (REPAIRED_BY_PARSING.test(clientId)) {
    throw invalidClient('client_id URL must not contain whitespace, control characters or backslashes');
  }
  if (!HTTPS_PREFIX.test(clientId)) throw invalidClient('client_id URL must use the https scheme (CIMD §3)');
  // §3 MUST NOT contain a fragment: any '#', even an empty one.
  if (clientId.includes('#')) throw invalidClient('client_id URL must not contain a fragment (CIMD §3)');

  const rest = clientId.slice('https://'.length);
  const authorityEnd = rest.search(/[/?]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  // §3 MUST NOT contain a username or password: any '@' in the authority, even `https://@host/`.
  if (authority.includes('@')) throw invalidClient('client_id URL must not contain user information (CIMD §3)');

  const afterAuthority = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  const queryStart = afterAuthority.indexOf('?');
  const path = queryStart === -1 ? afterAuthority : afterAuthority.slice(0, queryStart);
  // §3 MUST contain a path component; project default: `/` alone is no path (the MCP SDK agrees).
  if (path === '' || path === '/') throw invalidClient('client_id URL must have a path, not only "/" (CIMD §3)');
  // §3 MUST NOT contain single-dot or double-dot path segments, percent-encoded forms included.
  for (const segment of path.split('/')) {
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') {
      throw invalidClient('client_id URL must not contain "." or ".." path segments (CIMD §3)');
    }
  }
  // §3 SHOULD NOT contain a query; refused unless the operator allows it.
  if (queryStart !== -1 && !rules.allowQuery) {
    throw invalidClient('client_id URL must not contain a query (CIMD §3)');
  }

  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    throw invalidClient('client_id is not a valid URL');
  }
  if (url.hostname === '') throw invalidClient('client_id URL must name a host');
  return url;
}

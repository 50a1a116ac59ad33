import { invalidRedirectUri } from '../core/errors.js';

/**
 * The one redirect URI engine: registration validates with `classifyRedirectUri`, and the
 * authorization endpoint matches with `redirectUriMatches`. Keeping both here means a URI that
 * registers is exactly a URI that can be used.
 */

/**
 * What kind of redirect URI `classifyRedirectUri` found: `https`; `loopback`, plain http on
 * 127.0.0.1, [::1] or localhost (RFC 8252 §7.3); `private-use`, a native app's own scheme
 * (RFC 8252 §7.1); or `http` on another host, only when https is not required.
 */
export type RedirectUriKind = 'https' | 'loopback' | 'private-use' | 'http';

/** Schemes that run code or read local data in the user agent; never a redirect target. */
const FORBIDDEN_SCHEMES = new Set(['javascript', 'data', 'vbscript', 'file', 'blob', 'about', 'filesystem']);

/** RFC 8252 §7.3 loopback hosts, plus `localhost` which many native clients still use (§8.3). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export const MAX_REDIRECT_URI_LENGTH = 2048;

/** The deployment's redirect URI rules, as `classifyRedirectUri` applies them. */
export interface RedirectUriRules {
  /** Refuse plain http except on loopback (the `requireHttpsRedirectUris` option). */
  requireHttps: boolean;
  /** When set, only these schemes (lower case) may be registered. */
  allowedSchemes?: ReadonlySet<string>;
}

/** The scheme as written (RFC 3986 §3.1), lower-cased; undefined when the URI has none. */
function schemeOf(uri: string): string | undefined {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri);
  return match?.[1]?.toLowerCase();
}

/**
 * The port written in the URI's authority (RFC 3986 §3.2.3), as text; undefined when the URI has
 * no authority or no port. Read textually so that it never throws, whatever the input.
 */
const AUTHORITY_PORT = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]/?#]*\]|[^:/?#]*):(\d+)(?:[/?#\\]|$)/;

/**
 * RFC 6335 §6: TCP and UDP ports are 1-65535 (0 is reserved and cannot be connected to). A URI
 * naming another port can never be a redirect target, so it is invalid at registration and never
 * matches at the authorization endpoint.
 */
export function hasImpossiblePort(uri: string): boolean {
  const port = AUTHORITY_PORT.exec(uri)?.[1];
  if (port === undefined) return false;
  const value = Number(port);
  return !(value >= 1 && value <= 65535);
}

/**
 * Checks one redirect URI against RFC 6749 §3.1.2 and RFC 8252 and says what kind it is.
 * Every rejection is a RegistrationError `invalid_redirect_uri` (RFC 7591 §3.2.2) naming the URI.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.1
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2
 */
export function classifyRedirectUri(uri: string, rules: RedirectUriRules): RedirectUriKind {
  if (uri.length === 0) throw invalidRedirectUri('Redirect URI must not be empty');
  if (uri.length > MAX_REDIRECT_URI_LENGTH) {
    throw invalidRedirectUri(
      `Redirect URI is longer than ${MAX_REDIRECT_URI_LENGTH} characters: ${uri.slice(0, 64)}...`,
    );
  }
  // Control characters and spaces never belong in a URI and can confuse later parsers.
  if (/[\u0000-\u0020\u007f-\u009f]/.test(uri)) {
    throw invalidRedirectUri(`Redirect URI contains whitespace or control characters: ${JSON.stringify(uri)}`);
  }
  const scheme = schemeOf(uri);
  // Checked before parsing: WHATWG URL throws on a port above 65535 (which would read as "not
  // absolute") and accepts port 0, which no redirect can ever reach.
  if (hasImpossiblePort(uri)) {
    throw invalidRedirectUri(`Redirect URI port must be between 1 and 65535: ${uri}`);
  }
  let url: URL;
  try {
    if (!scheme) throw new Error('relative');
    url = new URL(uri);
  } catch {
    // RFC 6749 §3.1.2: the redirection endpoint URI MUST be an absolute URI.
    throw invalidRedirectUri(`Redirect URI must be an absolute URI: ${uri}`);
  }
  // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment component (not even an empty one).
  if (uri.includes('#')) throw invalidRedirectUri(`Redirect URI must not contain a fragment: ${uri}`);
  if (FORBIDDEN_SCHEMES.has(scheme!)) {
    throw invalidRedirectUri(`Redirect URI scheme '${scheme}' is not allowed: ${uri}`);
  }
  if (rules.allowedSchemes && !rules.allowedSchemes.has(scheme!)) {
    throw invalidRedirectUri(`Redirect URI scheme '${scheme}' is not allowed: ${uri}`);
  }
  if (url.username || url.password) {
    throw invalidRedirectUri(`Redirect URI must not contain credentials: ${uri}`);
  }

  if (scheme === 'https') {
    if (!url.hostname) throw invalidRedirectUri(`Redirect URI must name a host: ${uri}`);
    if (url.hostname.includes('*')) throw invalidRedirectUri(`Redirect URI must not contain a wildcard: ${uri}`);
    return 'https';
  }
  if (scheme === 'http') {
    // RFC 8252 §7.3: plain http is acceptable only for the loopback interface.
    if (LOOPBACK_HOSTS.has(url.hostname)) return 'loopback';
    if (rules.requireHttps) {
      throw invalidRedirectUri(`HTTPS required for redirect URIs in production: ${uri}`);
    }
    if (!url.hostname) throw invalidRedirectUri(`Redirect URI must name a host: ${uri}`);
    return 'http';
  }
  if (scheme === 'ws' || scheme === 'wss' || scheme === 'ftp') {
    throw invalidRedirectUri(`Redirect URI scheme '${scheme}' is not allowed: ${uri}`);
  }
  // RFC 8252 §7.1: a private-use URI scheme, for a native app (e.g. com.example.app:/cb, cursor://...).
  return 'private-use';
}

/** Loopback http URI split around its port, so two can be compared ignoring the port. */
const LOOPBACK_URI = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?([/?].*)?$/i;

function loopbackParts(uri: string): { host: string; rest: string } | undefined {
  const match = LOOPBACK_URI.exec(uri);
  if (!match) return undefined;
  return { host: match[1]!.toLowerCase(), rest: match[3] ?? '/' };
}

/**
 * Whether `requested` (from an authorization request) matches one of the registered URIs.
 * RFC 6749 §3.1.2.3 / RFC 9700 §4.1.3: exact string comparison. RFC 8252 §7.3: for loopback
 * redirects the port is chosen by the app at run time, so it is ignored, even when the
 * registered URI had none; the host, path and query must still match exactly. Never throws:
 * whatever an authorization request carries, the answer is match or no match.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2.3
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 */
export function redirectUriMatches(registered: readonly string[], requested: string): boolean {
  if (typeof requested !== 'string' || requested.length === 0) return false;
  // An impossible port never matches, not even a registered URI stored before this rule existed.
  if (hasImpossiblePort(requested)) return false;
  if (registered.includes(requested)) return true;
  const wanted = loopbackParts(requested);
  if (!wanted) return false;
  for (const candidate of registered) {
    if (typeof candidate !== 'string') continue;
    const have = loopbackParts(candidate);
    if (have && have.host === wanted.host && have.rest === wanted.rest) return true;
  }
  return false;
}

export function isNativeRedirectKind(kind: RedirectUriKind): boolean {
  return kind === 'loopback' || kind === 'private-use';
}

/** The one error safe-fetch rejects with, and the URL redaction its messages use. */

/**
 * Why safeFetch refused: a bad URL, a non-https `scheme`, `credentials` in the URL, a `dns`
 * failure, a `blocked_address` (private, loopback, link-local...), a `network` error, a `timeout`,
 * `too_many_redirects`, a body `too_large`, the wrong `content_type`, an unexpected `status`, or
 * `invalid_json`.
 */
export type SafeFetchErrorReason =
  | 'invalid_url'
  | 'scheme'
  | 'credentials'
  | 'dns'
  | 'blocked_address'
  | 'network'
  | 'timeout'
  | 'too_many_redirects'
  | 'too_large'
  | 'content_type'
  | 'status'
  | 'invalid_json';

/**
 * Why a fetch was refused. `reason` is for code (callers map it to an RFC 7591 error such as
 * invalid_client_metadata); the message names the URL, with any credentials removed.
 */
export class SafeFetchError extends Error {
  override readonly name = 'SafeFetchError';
  readonly reason: SafeFetchErrorReason;
  /** The URL concerned, without credentials or fragment. */
  readonly url: string;
  /** The HTTP status, for reason 'status'. */
  readonly status: number | undefined;

  constructor(
    reason: SafeFetchErrorReason,
    url: string,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(`${message}: ${url}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.url = url;
    this.status = options.status;
  }
}

/** The URL as it may appear in messages: no credentials, no fragment. */
export function redact(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.hash = '';
  return copy.href;
}

/** For text that did not even parse as a URL: drop anything that looks like userinfo, and bound it. */
export function redactText(text: string): string {
  const cleaned = text.replace(/\/\/[^/?#]*@/, '//');
  return cleaned.length > 200 ? `${cleaned.slice(0, 200)}…` : cleaned;
}

/**
 * One error class for everything the registration endpoints refuse.
 *
 * The code is chosen where the error is raised (never derived from message text), and each code
 * carries its default HTTP status: RFC 7591 §3.2.2 errors are 400, RFC 6750 §3.1 token errors are
 * 401. Only OAuth codes go on the wire: HTTP-level refusals (405, 404, 413, 409) are
 * `invalid_request` with their own status, so a client that knows only the RFCs can read them;
 * a rate limit is `temporarily_unavailable` with 429 and `Retry-After` (RFC 6585 §4).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export type RegistrationErrorCode =
  // RFC 7591 §3.2.2
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  // RFC 6750 §3.1 (initial access tokens, registration access tokens)
  | 'invalid_token'
  | 'insufficient_scope'
  // RFC 6749 §5.2
  | 'invalid_request'
  | 'invalid_client'
  // RFC 6749 §4.1.2.1: the server met an unexpected condition
  | 'server_error'
  // RFC 6749 §4.1.2.1: "unable to handle the request due to a temporary overloading": a rate
  // limit (429, with Retry-After), a registration cap, or the limits' counter store down (503).
  // The one registered OAuth code that tells a client to come back later rather than change
  // its request; RFC 7591 §3.2.2 lets the endpoint use codes beyond its own.
  | 'temporarily_unavailable';

const STATUS: Record<RegistrationErrorCode, number> = {
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  invalid_software_statement: 400,
  unapproved_software_statement: 400,
  invalid_request: 400,
  invalid_token: 401,
  invalid_client: 401,
  insufficient_scope: 403,
  server_error: 500,
  temporarily_unavailable: 503,
};

/**
 * Every code, for hosts that map or list them (also exported from `oauth-dcr/errors`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2
 */
export const REGISTRATION_ERROR_CODES: readonly RegistrationErrorCode[] = Object.freeze(
  Object.keys(STATUS) as RegistrationErrorCode[],
);

/** What a RegistrationError may carry beyond its code and description. */
export interface RegistrationErrorOptions {
  /** Overrides the status derived from the code. */
  status?: number;
  /** Extra response headers, e.g. `Allow` or `Retry-After`. */
  headers?: Record<string, string>;
  /** The underlying error, kept for logs; never sent to the client. */
  cause?: unknown;
  /**
   * RFC 6901 JSON Pointer to the member of the client metadata at fault (`/redirect_uris/1`;
   * `""` is the whole document). A hook may set it to point at the field its refusal is about.
   */
  pointer?: string;
}

/**
 * A refusal the client is told about: the endpoint answers it as an OAuth error response,
 * `{ "error": code, "error_description": description }`, with the code's HTTP status. Throw one
 * from a `validateMetadata` or `createClient` hook to refuse a registration in your own words.
 * A 401 gets its RFC 6750 `WWW-Authenticate` header on its own.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
  /** The OAuth error code sent as `error`. */
  readonly code: RegistrationErrorCode;
  /** The HTTP status of the answer: the code's default unless overridden. */
  readonly status: number;
  /** Response headers sent with the error (`WWW-Authenticate` on a 401, `Allow` on a 405, ...). */
  readonly headers: Record<string, string>;
  /**
   * RFC 6901 JSON Pointer to the member of the client metadata at fault, in the metadata as sent
   * (a field a software statement supplied points at `/software_statement`). Undefined when the
   * refusal is not about one member (a token, the body's syntax). Shown by `validate()` and the
   * `oauth-dcr validate` command; not sent on the wire, whose body stays RFC 7591 §3.2.2's two
   * members (its `error_description` names the field in words).
   */
  readonly pointer: string | undefined;

  constructor(code: RegistrationErrorCode, description: string, options: RegistrationErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? STATUS[code];
    this.headers = { ...options.headers };
    this.pointer = options.pointer;
    if (this.status === 401 && !this.headers['WWW-Authenticate']) {
      // RFC 6750 §3: a 401 for a bearer token names the scheme and the error.
      this.headers['WWW-Authenticate'] =
        `Bearer error="${code}", error_description="${description.replace(/["\\]/g, "'")}"`;
    }
  }

  /** The human-readable `error_description` (the same as `message`). */
  get description(): string {
    return this.message;
  }

  /** The error response body (RFC 7591 §3.2.2). */
  toJSON(): { error: RegistrationErrorCode; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}

/** Whether a value is a RegistrationError, i.e. a refusal meant for the client rather than a fault. */
export function isRegistrationError(value: unknown): value is RegistrationError {
  return value instanceof RegistrationError;
}

/** RFC 6901 §3: `~` is written `~0` and `/` is written `~1` inside a reference token. */
export function jsonPointer(...tokens: (string | number)[]): string {
  return tokens.map((token) => `/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Gives `error`, when it is a RegistrationError without a pointer yet, the pointer `pointer`;
 * returns it for `throw`. Where a rule knows the field better (deeper in the metadata), it has
 * set the pointer first and keeps it.
 */
export function pointAt(error: unknown, pointer: string): unknown {
  if (error instanceof RegistrationError && error.pointer === undefined) {
    (error as { pointer: string | undefined }).pointer = pointer;
  }
  return error;
}

/** Runs `check`; a RegistrationError it throws (or rejects with) without a pointer gets `pointer`. */
export function atPointer<T>(pointer: string, check: () => T): T {
  let result: T;
  try {
    result = check();
  } catch (error) {
    throw pointAt(error, pointer);
  }
  if (result instanceof Promise) {
    return result.catch((error: unknown) => {
      throw pointAt(error, pointer);
    }) as T;
  }
  return result;
}

/** Shorthands for the two codes almost every metadata rule raises. */
export const invalidMetadata = (description: string): RegistrationError =>
  new RegistrationError('invalid_client_metadata', description);
export const invalidRedirectUri = (description: string): RegistrationError =>
  new RegistrationError('invalid_redirect_uri', description);

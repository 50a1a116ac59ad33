/**
 * One error class for everything the registration endpoints refuse.
 *
 * The code is chosen where the error is raised (never derived from message text), and each code
 * carries its HTTP status: RFC 7591 §3.2.2 errors are 400, RFC 6750 §3.1 token errors are 401.
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
  // RFC 6749 §5.2 / generic HTTP-level problems, still answered as JSON
  | 'invalid_request'
  | 'invalid_client'
  | 'method_not_allowed'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'server_error';

const STATUS: Record<RegistrationErrorCode, number> = {
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  invalid_software_statement: 400,
  unapproved_software_statement: 400,
  invalid_request: 400,
  invalid_token: 401,
  invalid_client: 401,
  insufficient_scope: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  server_error: 500,
};

export interface RegistrationErrorOptions {
  /** Overrides the status derived from the code. */
  status?: number;
  /** Extra response headers, e.g. `Allow` or `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
  readonly code: RegistrationErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: RegistrationErrorCode, description: string, options: RegistrationErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? STATUS[code];
    this.headers = { ...options.headers };
    if (this.status === 401 && !this.headers['WWW-Authenticate']) {
      // RFC 6750 §3: a 401 for a bearer token names the scheme and the error.
      this.headers['WWW-Authenticate'] =
        `Bearer error="${code}", error_description="${description.replace(/["\\]/g, "'")}"`;
    }
  }

  get description(): string {
    return this.message;
  }

  toJSON(): { error: RegistrationErrorCode; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}

export function isRegistrationError(value: unknown): value is RegistrationError {
  return value instanceof RegistrationError;
}

/** Shorthands for the two codes almost every metadata rule raises. */
export const invalidMetadata = (description: string): RegistrationError =>
  new RegistrationError('invalid_client_metadata', description);
export const invalidRedirectUri = (description: string): RegistrationError =>
  new RegistrationError('invalid_redirect_uri', description);

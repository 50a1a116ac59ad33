import type { JSONWebKeySet } from 'jose';

/**
 * A software statement issuer this deployment trusts (RFC 7591 §2.3), with its keys given inline
 * or fetched from `jwksUri` through safe-fetch.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2.3
 */
export interface TrustedStatementIssuer {
  /** The statement's `iss`. */
  issuer: string;
  /** The issuer's public keys, given inline (RFC 7517 §5 JWK Set); or give `jwksUri`. */
  jwks?: JSONWebKeySet;
  /** Where to fetch the issuer's JWK Set (https, through safe-fetch); or give `jwks`. */
  jwksUri?: string;
  /** Accepted signing algorithms. Default: the asymmetric JWS algorithms. */
  algorithms?: string[];
}

/**
 * Which software statements the endpoint accepts: those signed by one of `issuers`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2.3
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.1.1
 */
export interface SoftwareStatementOptions {
  /** The issuers whose statements are trusted; a statement from anyone else is unapproved. */
  issuers: TrustedStatementIssuer[];
  /** Refuse registrations that carry no statement. Default false. */
  required?: boolean;
}

import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  errors as joseErrors,
  type JSONWebKeySet,
} from 'jose';
import { RegistrationError } from '../core/errors.js';
import { MAX_JSON_DEPTH, sanitizeJson } from '../core/request.js';
import { createFetchCache, type FetchCache } from '../net/fetch-cache.js';
import { SafeFetchError, type SafeFetchOptions } from '../net/safe-fetch.js';
import type { SoftwareStatementOptions, TrustedStatementIssuer } from '../core/options.js';

export type { SoftwareStatementOptions, TrustedStatementIssuer };

/**
 * RFC 7591 §2.3 software statements: a JWT about the client software, signed by a party this
 * deployment trusts. Verified with jose against the issuer's keys, given inline or fetched from
 * its `jwks_uri` through safe-fetch (cached).
 */
export interface StatementVerifier {
  readonly required: boolean;
  verify(statement: unknown): Promise<VerifiedStatement>;
}

export interface VerifiedStatement {
  issuer: string;
  /** Client metadata claims; they take precedence over the same fields in the body (§2.3). */
  claims: Record<string, unknown>;
}

/** Asymmetric only: a shared-secret statement would let anyone holding the secret mint one. */
const DEFAULT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** JWT claims (RFC 7519 §4.1) that describe the statement, not the client. */
const JWT_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);

const invalid = (description: string) => new RegistrationError('invalid_software_statement', description);

export function createStatementVerifier(
  options: SoftwareStatementOptions,
  fetchOptions: SafeFetchOptions = {},
): StatementVerifier {
  const issuers = new Map<string, TrustedStatementIssuer>();
  for (const entry of options.issuers ?? []) {
    if (!entry || typeof entry.issuer !== 'string' || entry.issuer === '') {
      throw new TypeError('oauth-dcr: softwareStatements.issuers[].issuer must be a non-empty string');
    }
    if ((entry.jwks === undefined) === (entry.jwksUri === undefined)) {
      throw new TypeError(`oauth-dcr: trusted issuer ${entry.issuer} needs exactly one of jwks or jwksUri`);
    }
    if (entry.jwks !== undefined && !Array.isArray(entry.jwks.keys)) {
      throw new TypeError(`oauth-dcr: trusted issuer ${entry.issuer}: jwks must be a JWK Set`);
    }
    issuers.set(entry.issuer, entry);
  }
  const keyCache: FetchCache = createFetchCache({ maxEntries: Math.max(issuers.size, 1) });

  async function keysFor(entry: TrustedStatementIssuer) {
    if (entry.jwks) return createLocalJWKSet(entry.jwks);
    try {
      const jwks = await keyCache.json(entry.jwksUri!, {
        ...fetchOptions,
        accept: ['application/json', 'application/jwk-set+json'],
      });
      return createLocalJWKSet(jwks as JSONWebKeySet);
    } catch (error) {
      const reason = error instanceof SafeFetchError ? error.reason : 'invalid key set';
      throw invalid(`The keys of software statement issuer ${entry.issuer} could not be loaded (${reason})`);
    }
  }

  return {
    required: options.required ?? false,
    async verify(statement) {
      if (typeof statement !== 'string' || statement.length === 0)
        throw invalid('software_statement must be a JWT string');
      let alg: unknown;
      let iss: unknown;
      try {
        alg = decodeProtectedHeader(statement).alg;
        iss = decodeJwt(statement).iss;
      } catch {
        throw invalid('software_statement is not a well-formed JWT');
      }
      if (alg === 'none' || typeof alg !== 'string') throw invalid('software_statement must be signed');
      if (typeof iss !== 'string') throw invalid('software_statement has no "iss" claim');
      const entry = issuers.get(iss);
      // RFC 7591 §3.2.2: a well-formed statement from an issuer we do not trust is "unapproved".
      if (!entry) {
        throw new RegistrationError(
          'unapproved_software_statement',
          `Software statements from ${iss} are not accepted by this server`,
        );
      }
      const keys = await keysFor(entry);
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(statement, keys, {
          issuer: entry.issuer,
          algorithms: entry.algorithms ?? DEFAULT_ALGORITHMS,
        }));
      } catch (error) {
        throw invalid(`software_statement could not be verified: ${describeJoseError(error)}`);
      }
      const claims: Record<string, unknown> = Object.create(null);
      for (const [key, value] of Object.entries(payload)) if (!JWT_CLAIMS.has(key)) claims[key] = value;
      // The claims were parsed from the JWT by jose, not by the body reader: the same
      // prototype-poisoning keys and depth limit apply to them before they become metadata.
      if (!sanitizeJson(claims))
        throw invalid(`software_statement claims are nested deeper than ${MAX_JSON_DEPTH} levels`);
      return { issuer: entry.issuer, claims };
    },
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (error instanceof joseErrors.JWTExpired) return 'the statement has expired';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches the statement';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the signing algorithm is not accepted';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return error.message;
  return 'the statement is malformed';
}

/**
 * RFC 7591 §2.3: statement claims override the same fields in the body, and a body holding only
 * a statement is valid. The statement itself is kept so it can be echoed unmodified (§3.2.1).
 */
export function mergeStatement(body: Record<string, unknown>, verified: VerifiedStatement): Record<string, unknown> {
  const merged: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(body)) merged[key] = value;
  for (const [key, value] of Object.entries(verified.claims)) merged[key] = value;
  return merged;
}

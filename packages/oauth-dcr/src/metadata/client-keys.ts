import { createPublicKey, type JsonWebKeyInput } from 'node:crypto';
import { invalidMetadata } from '../core/errors.js';
import type { ClientJwkSet, ClientMetadata } from '../core/client-metadata.js';

/**
 * The client's keys and the algorithm it signs with: the rules for `jwks`, `jwks_uri` and
 * `token_endpoint_auth_signing_alg`, for registrations and Client ID Metadata Documents alike.
 */

/**
 * The JWS algorithms a client may sign its `private_key_jwt` assertions with (RFC 7523 §3,
 * RFC 7518 §3.1): asymmetric only. An HMAC algorithm would need a secret shared with the server,
 * which `private_key_jwt` clients do not have, and `none` signs nothing. Also what the server
 * advertises as `token_endpoint_auth_signing_alg_values_supported` (RFC 8414 §2).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 */
export const CLIENT_ASSERTION_ALGORITHMS: readonly string[] = Object.freeze([
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
]);

/**
 * `token_endpoint_auth_signing_alg` (OIDC DCR §2), when given, must be asymmetric: `none` is
 * never acceptable at the token endpoint (OIDC DCR §2), and HS* would mean a shared secret.
 */
export function checkSigningAlgorithm(known: ClientMetadata): void {
  const alg = known.token_endpoint_auth_signing_alg;
  if (alg === 'none') throw invalidMetadata("token_endpoint_auth_signing_alg must not be 'none' (OIDC DCR §2)");
  if (alg !== undefined && !CLIENT_ASSERTION_ALGORITHMS.includes(alg)) {
    throw invalidMetadata(
      `token_endpoint_auth_signing_alg must be an asymmetric algorithm (${CLIENT_ASSERTION_ALGORITHMS.join(', ')}), got '${alg}'`,
    );
  }
}

/** Where the client's keys are: at most one of jwks and jwks_uri, and one of them for private_key_jwt. */
export function checkKeySource(known: ClientMetadata, authMethod: string): void {
  // RFC 7591 §2: "The "jwks_uri" and "jwks" parameters MUST NOT both be present in the same request".
  if (known.jwks !== undefined && known.jwks_uri !== undefined) {
    throw invalidMetadata('jwks and jwks_uri must not both be present (RFC 7591 §2)');
  }
  // RFC 7523 §2.2: the server verifies the assertion with the client's public key.
  if (authMethod === 'private_key_jwt' && known.jwks === undefined && known.jwks_uri === undefined) {
    throw invalidMetadata('token_endpoint_auth_method private_key_jwt requires jwks or jwks_uri');
  }
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * RFC 7517 §4.2-§4.9: the types of the registered JWK parameters a key set may carry beyond its
 * key material (which Node's key parser checks). Anything else is left to the client, as §4 allows.
 */
const JWK_PARAMETER_TYPES: Readonly<Record<string, 'string' | 'string-array'>> = {
  use: 'string',
  key_ops: 'string-array',
  alg: 'string',
  kid: 'string',
  x5u: 'string',
  x5c: 'string-array',
  x5t: 'string',
  'x5t#S256': 'string',
};
const MAX_JWKS_KEYS = 16;

/**
 * RFC 7517: each key must be a well-formed public JWK. Node's key parser proves it without
 * needing an `alg`, which most published key sets omit. Private or symmetric key material is
 * refused: a client publishing it has leaked it.
 */
export function checkJwkSet(jwks: ClientJwkSet): void {
  // The field check made sure `keys` is an array; each member is checked here.
  const keys: readonly unknown[] = jwks.keys;
  // RFC 7517 §4 and §5 give no member a JSON null value; the client information response echoes
  // the set as registered, and RFC 7591 §3.2.1 omits absent members rather than sending null.
  const nullAt = findNull(jwks, 'jwks');
  if (nullAt !== undefined) throw invalidMetadata(`${nullAt} must not be null (RFC 7517 §4)`);
  if (keys.length === 0) throw invalidMetadata('jwks must contain at least one key');
  if (keys.length > MAX_JWKS_KEYS) throw invalidMetadata(`jwks must contain at most ${MAX_JWKS_KEYS} keys`);
  for (const [i, key] of keys.entries()) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      throw invalidMetadata(`jwks.keys[${i}] must be a JWK object`);
    }
    const jwk = key as Record<string, unknown>;
    if (typeof jwk.kty !== 'string') throw invalidMetadata(`jwks.keys[${i}] must have a "kty" member (RFC 7517 §4.1)`);
    if (jwk.kty === 'oct' || PRIVATE_JWK_MEMBERS.some((m) => m in jwk)) {
      throw invalidMetadata(`jwks.keys[${i}] must be a public key; private or symmetric key material is not accepted`);
    }
    for (const [name, type] of Object.entries(JWK_PARAMETER_TYPES)) {
      if (!Object.hasOwn(jwk, name)) continue;
      const value = jwk[name];
      const valid =
        type === 'string'
          ? typeof value === 'string'
          : Array.isArray(value) && value.every((item) => typeof item === 'string');
      if (!valid) {
        const expected = type === 'string' ? 'a string' : 'an array of strings';
        throw invalidMetadata(`jwks.keys[${i}].${name} must be ${expected} (RFC 7517 §4)`);
      }
    }
    try {
      createPublicKey({ key: jwk, format: 'jwk' } as JsonWebKeyInput);
    } catch (error) {
      throw invalidMetadata(`jwks.keys[${i}] is not a valid JWK: ${(error as Error).message}`);
    }
  }
}

/** Where the first JSON null in `value` is, as a path (`jwks.keys[0].use`), or undefined. */
function findNull(value: unknown, path: string): string | undefined {
  if (value === null) return path;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findNull(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
  } else if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const found = findNull(item, `${path}.${key}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

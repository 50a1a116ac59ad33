import {
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { TrustedAttester } from '../core/attestation-options.js';

/**
 * The Client Attestation JWT (draft-ietf-oauth-attestation-based-client-auth-10 §4, §7.1):
 * signed by a Client Attester, it says "this instance of client `sub` holds key `cnf.jwk`".
 */

/** §4: the exact `typ` of a Client Attestation JWT. */
export const ATTESTATION_TYP = 'oauth-client-attestation+jwt';
/** §5.1: the exact `typ` of a Client Attestation PoP JWT. */
export const ATTESTATION_POP_TYP = 'oauth-client-attestation-pop+jwt';

/**
 * The asymmetric JWS algorithms accepted for attestations and their PoPs (§4 rule 2, §11.2:
 * signatures by default; never `none`, never a MAC).
 */
export const ATTESTATION_ALGORITHMS: readonly string[] = Object.freeze([
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
]);

/** Clock skew tolerated on `exp` and `iat`, in seconds. */
export const CLOCK_SKEW_SECONDS = 30;

/** RFC 7517/7518 private members: a `cnf.jwk` that has any of them is not a public key (§4). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

export interface VerifiedAttestation {
  attester: TrustedAttester;
  claims: JWTPayload & { sub: string };
  /** The instance key (`cnf.jwk`), public. */
  instanceKey: JWK;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; description: string; fresh?: false };

/**
 * §7.1: `typ`, `alg`, signature by one of `candidates` (the attesters trusted for the client at
 * hand), `sub`, `exp`, a public `cnf.jwk`. Freshness and the `sub` binding are the caller's.
 */
/**
 * An attester's keys for an attestation with this `jku` header (or none): undefined when the
 * attester has none to offer for it (a `jku` off its allow-list); throws when they cannot be fetched.
 */
export type AttesterKeys = (attester: TrustedAttester, jku: unknown) => Promise<JWTVerifyGetKey | undefined>;

export async function verifyAttestationJwt(
  attestation: string,
  candidates: readonly TrustedAttester[],
  keysOf: AttesterKeys,
  now: number,
): Promise<Checked<VerifiedAttestation>> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(attestation);
  } catch {
    return { ok: false, description: 'OAuth-Client-Attestation is not a well-formed JWT' };
  }
  // §4: typ is exactly this value (RFC 8725 §3.11 explicit typing: no other kind of JWT passes).
  if (header.typ !== ATTESTATION_TYP) {
    return { ok: false, description: `OAuth-Client-Attestation typ must be ${ATTESTATION_TYP}` };
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || !ATTESTATION_ALGORITHMS.includes(alg)) {
    return { ok: false, description: `OAuth-Client-Attestation alg ${String(alg)} is not accepted` };
  }
  for (const attester of candidates) {
    if (attester.algorithms && !attester.algorithms.includes(alg)) continue;
    let keys: JWTVerifyGetKey | undefined;
    try {
      keys = await keysOf(attester, header.jku);
    } catch {
      return { ok: false, description: 'The attester keys named by jku could not be fetched' };
    }
    if (keys === undefined) continue;
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(attestation, keys, {
        algorithms: [alg],
        typ: ATTESTATION_TYP,
        currentDate: new Date(now * 1000),
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      // Another candidate may hold the key; a verified signature with bad claims is final.
      if (isKeyMismatch(error)) continue;
      return { ok: false, description: `OAuth-Client-Attestation is invalid: ${describe(error)}` };
    }
    const sub = claims.sub;
    if (typeof sub !== 'string' || sub === '') return { ok: false, description: 'The attestation has no sub' };
    const cnf = claims.cnf as { jwk?: unknown } | undefined;
    const jwk = cnf?.jwk;
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk) || typeof (jwk as JWK).kty !== 'string') {
      return { ok: false, description: 'The attestation has no cnf.jwk (RFC 7800 §3.2)' };
    }
    if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) {
      return { ok: false, description: 'The attestation cnf.jwk must be a public key' };
    }
    return { ok: true, value: { attester, claims: { ...claims, sub }, instanceKey: jwk as JWK } };
  }
  return { ok: false, description: 'OAuth-Client-Attestation is not signed by an attester trusted for this client' };
}

function isKeyMismatch(error: unknown): boolean {
  return error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey;
}

export function describe(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason}`;
  if (error instanceof joseErrors.JOSEError) return error.code;
  return 'malformed';
}

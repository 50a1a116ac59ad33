import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { createFetchCache } from '../net/fetch-cache.js';
import type { SafeFetchOptions } from '../net/safe-fetch.js';
import type { ClientAssertionReplayGuard } from '../core/assertion-options.js';
import { createMemoryReplayGuard } from '../core/replay-guard.js';
import { hashSecret } from '../core/secrets.js';
import {
  ATTESTATION_ALGORITHMS,
  ATTESTATION_POP_TYP,
  CLOCK_SKEW_SECONDS,
  describe,
  verifyAttestationJwt,
  type AttesterKeys,
  type VerifiedAttestation,
} from './attestation-jwt.js';
import { createAttestationChallenges, type AttestationChallenges } from './challenges.js';
import { checkAttestationOptions } from './check-options.js';
import type { ClientAttestationOptions, TrustedAttester } from '../core/attestation-options.js';

/**
 * Verifies a Client Attestation and its PoP JWT ("normal mode",
 * draft-ietf-oauth-attestation-based-client-auth-10 §5.1, §7.1, §7.2), with the draft's error
 * codes (§7.4). One verifier per deployment: the replay guard and the challenge secret are in it.
 */

/** §7.4 and RFC 6749 §5.2: what a refused attestation is answered with. */
export type AttestationErrorCode =
  | 'invalid_client'
  | 'invalid_request'
  | 'use_fresh_attestation'
  | 'use_attestation_challenge';

export type AttestationVerification =
  | {
      ok: true;
      /** The attestation's `sub`: the client_id at the token endpoint, the software_id at registration. */
      subject: string;
      /** The attester that signed it. */
      attester: TrustedAttester;
      /** RFC 7638 SHA-256 thumbprint of the instance key (`cnf.jwk`): what refresh tokens are bound to (§9.3). */
      instanceKeyThumbprint: string;
    }
  | {
      ok: false;
      error: AttestationErrorCode;
      status: 400 | 401;
      description: string;
      /** With `use_attestation_challenge`: a fresh challenge for the `OAuth-Client-Attestation-Challenge` header (§6.2). */
      challenge?: string;
    };

/** The two headers as sent (§4, §5.1): strings, or what a request holds when a header is absent or repeated. */
export interface AttestationHeaders {
  attestation: string | string[] | undefined;
  pop: string | string[] | undefined;
}

export interface AttestationExpectations {
  /** The attesters that may vouch for the subject at hand (§9.8); the caller filters. */
  attesters: readonly TrustedAttester[];
  /** The `sub` the attestation must name, when the request already names one (§7.1, §7.5). */
  subject?: string;
}

export interface ClientAttestationVerifier {
  /** The trusted attesters, as configured. */
  readonly attesters: readonly TrustedAttester[];
  /** Present when challenges are on (§6): then every PoP must carry one. */
  readonly challenges?: AttestationChallenges;
  /** The challenge endpoint's URL, when challenges are on (§8 `challenge_endpoint`). */
  readonly challengeEndpoint?: string;
  /** Whether the request carries either header: then attestation is its client authentication. */
  isPresented(headers: AttestationHeaders): boolean;
  /** Verifies both JWTs; uses up the PoP's `jti` when they are accepted. */
  verify(headers: AttestationHeaders, expected: AttestationExpectations): Promise<AttestationVerification>;
}

export interface ClientAttestationVerifierSettings extends ClientAttestationOptions {
  /** The PoP audience (§5.1: the issuer identifier). Required. */
  issuer: string;
  /** Clock in epoch seconds. */
  now?: () => number;
  /** Options for fetching allow-listed `jku` key sets through safe-fetch. */
  outboundFetch?: SafeFetchOptions;
}

const DEFAULT_POP_WINDOW_SECONDS = 300;
const JWKS_MEDIA_TYPES = ['application/json', 'application/jwk-set+json'];

/**
 * Where an attester's keys come from (draft §9.8): its static `jwks`, or a `jku` the attestation
 * names when that URL is on the attester's allow-list, fetched through safe-fetch and cached.
 */
function attesterKeys(fetchOptions: SafeFetchOptions): AttesterKeys {
  const documents = createFetchCache({ maxEntries: 100 });
  const parsed = new WeakMap<object, JWTVerifyGetKey>();
  const keySetOf = (jwks: object): JWTVerifyGetKey => {
    let keys = parsed.get(jwks);
    if (keys === undefined) {
      keys = createLocalJWKSet(jwks as JSONWebKeySet);
      parsed.set(jwks, keys);
    }
    return keys;
  };
  return async (attester, jku) => {
    if (jku === undefined) return attester.jwks === undefined ? undefined : keySetOf(attester.jwks);
    if (typeof jku !== 'string' || !attester.jku?.includes(jku)) return undefined;
    const jwks = await documents.json(jku, { ...fetchOptions, accept: JWKS_MEDIA_TYPES });
    if (typeof jwks !== 'object' || jwks === null) throw new TypeError('not a JWK Set');
    return keySetOf(jwks);
  };
}

/** Builds the verifier at start-up; bad settings throw a TypeError. */
export function createClientAttestationVerifier(
  settings: ClientAttestationVerifierSettings,
): ClientAttestationVerifier {
  checkAttestationOptions(settings);
  if (typeof settings.issuer !== 'string' || !/^https?:\/\//.test(settings.issuer)) {
    throw new TypeError('oauth-dcr: clientAttestation needs the issuer option (the PoP audience)');
  }
  const now = settings.now ?? (() => Math.floor(Date.now() / 1000));
  const window = settings.popMaxAgeSeconds ?? DEFAULT_POP_WINDOW_SECONDS;
  const replayGuard: ClientAssertionReplayGuard = settings.replayGuard ?? createMemoryReplayGuard();
  const challenges = settings.challenge ? createAttestationChallenges(settings.challenge, now) : undefined;
  const keysOf = attesterKeys(settings.outboundFetch ?? {});

  const refuse = (description: string): AttestationVerification => ({
    ok: false,
    error: 'invalid_client',
    status: 401,
    description,
  });

  async function verify(headers: AttestationHeaders, expected: AttestationExpectations) {
    const attestation = single(headers.attestation);
    const pop = single(headers.pop);
    // §4, §5.1: exactly one of each header; RFC 6749 §5.2 invalid_request for a repeated one.
    if (attestation === 'repeated' || pop === 'repeated') {
      return invalidRequest('Send exactly one OAuth-Client-Attestation and one OAuth-Client-Attestation-PoP header');
    }
    if (attestation === undefined) return refuse('The OAuth-Client-Attestation header is missing');
    if (pop === undefined) return refuse('The OAuth-Client-Attestation-PoP header is missing');
    const clock = now();
    const checked = await verifyAttestationJwt(attestation, expected.attesters, keysOf, clock);
    if (!checked.ok) return refuse(checked.description);
    const { claims, instanceKey } = checked.value;
    // §7.1, §7.5: a client_id sent with the request must be the attestation's sub.
    if (expected.subject !== undefined && claims.sub !== expected.subject) {
      return refuse('The attestation sub does not name this client');
    }
    // §7.4: the operator's freshness policy, judged by iat.
    const maxAge = settings.attestationMaxAgeSeconds;
    if (maxAge !== undefined && (typeof claims.iat !== 'number' || clock - claims.iat > maxAge)) {
      return {
        ok: false,
        error: 'use_fresh_attestation',
        status: 400,
        description: `The attestation is older than ${maxAge} seconds; get a fresh one`,
      } as const;
    }
    const popChecked = await verifyPop(pop, checked.value, clock);
    if (!popChecked.ok) return popChecked.refusal;
    const popClaims = popChecked.claims;
    // §6: with challenges on, the PoP carries one this server issued.
    if (challenges && !challenges.isValid(popClaims.challenge)) {
      return {
        ok: false,
        error: 'use_attestation_challenge',
        status: 400,
        description: 'The PoP must carry a current challenge from the challenge endpoint',
        challenge: challenges.issue(),
      } as const;
    }
    // §11.1: after the iat window check, a jti is used once within the window. Keyed by the
    // instance key that signed the PoP rather than by `sub`, so that a PoP sent to /register
    // (sub: software_id) cannot be replayed at the token endpoint (sub: client_id) either.
    // Hashed: a bounded key whatever the client sent; the tuple's shape keeps it apart from
    // private_key_jwt's keys in a shared store.
    const thumbprint = await calculateJwkThumbprint(instanceKey, 'sha256');
    const key = hashSecret(JSON.stringify(['attestation-pop', thumbprint, popClaims.jti]));
    let fresh: boolean;
    try {
      fresh = await replayGuard.useOnce(key, (popClaims.iat as number) + window + CLOCK_SKEW_SECONDS);
    } catch {
      // A full or unreachable store cannot vouch that the jti is fresh: refuse rather than risk a replay.
      return refuse('The PoP jti could not be recorded; retry later');
    }
    if (!fresh) return refuse('The PoP jti was already used');
    return {
      ok: true,
      subject: claims.sub,
      attester: checked.value.attester,
      instanceKeyThumbprint: thumbprint,
    } as const;
  }

  type PopResult = { ok: true; claims: JWTPayload } | { ok: false; refusal: AttestationVerification };

  /** §5.1, §7.2: typ, an asymmetric alg, signed by cnf.jwk, aud the issuer alone, jti, iat in the window. */
  async function verifyPop(pop: string, attested: VerifiedAttestation, clock: number): Promise<PopResult> {
    const fail = (description: string): PopResult => ({ ok: false, refusal: refuse(description) });
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(pop);
    } catch {
      return fail('OAuth-Client-Attestation-PoP is not a well-formed JWT');
    }
    if (header.typ !== ATTESTATION_POP_TYP)
      return fail(`OAuth-Client-Attestation-PoP typ must be ${ATTESTATION_POP_TYP}`);
    const alg = header.alg;
    if (typeof alg !== 'string' || !ATTESTATION_ALGORITHMS.includes(alg)) {
      return fail(`OAuth-Client-Attestation-PoP alg ${String(alg)} is not accepted`);
    }
    let claims: JWTPayload;
    try {
      const key = await importJWK(attested.instanceKey, alg);
      ({ payload: claims } = await jwtVerify(pop, key, {
        algorithms: [alg],
        typ: ATTESTATION_POP_TYP,
        currentDate: new Date(clock * 1000),
        clockTolerance: CLOCK_SKEW_SECONDS,
      }));
    } catch (error) {
      return fail(`OAuth-Client-Attestation-PoP is not signed by the attested key: ${describe(error)}`);
    }
    // §5.1: aud is the issuer identifier, one value only.
    if (typeof claims.aud !== 'string' || claims.aud !== settings.issuer) {
      return fail(`The PoP aud must be the issuer ${settings.issuer}, as a single string`);
    }
    if (typeof claims.jti !== 'string' || claims.jti === '') return fail('The PoP has no jti');
    if (typeof claims.iat !== 'number') return fail('The PoP has no iat');
    // §11.1: iat inside the accepted window, both ways.
    if (Math.abs(clock - claims.iat) > window + CLOCK_SKEW_SECONDS) {
      return fail(`The PoP iat is outside the accepted ${window}-second window`);
    }
    return { ok: true, claims };
  }

  return {
    attesters: settings.attesters,
    ...(challenges ? { challenges, challengeEndpoint: settings.challenge!.endpoint } : {}),
    isPresented: (headers) => headers.attestation !== undefined || headers.pop !== undefined,
    verify,
  };
}

function invalidRequest(description: string): AttestationVerification {
  return { ok: false, error: 'invalid_request', status: 400, description };
}

/**
 * One header value, `repeated` when it came more than once: as an array (node:http
 * `headersDistinct`) or joined with commas (node:http `headers`, Fetch `Headers.get`); a token68
 * value never contains a comma.
 */
function single(value: string | string[] | undefined): string | undefined | 'repeated' {
  if (Array.isArray(value)) {
    if (value.length > 1) return 'repeated';
    value = value[0];
  }
  if (value === undefined) return undefined;
  if (value.includes(',')) return 'repeated';
  return value.trim();
}

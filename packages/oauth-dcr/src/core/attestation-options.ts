import type { JSONWebKeySet } from 'jose';
import type { ClientAssertionReplayGuard } from './assertion-options.js';

/**
 * OAuth 2.0 Attestation-Based Client Authentication
 * (draft-ietf-oauth-attestation-based-client-auth-10): the deployment's options. Plain data,
 * checked once by `resolveAttestationOptions`; the verifier is built from them in
 * ./verifier.ts. Experimental while the draft is: off unless `clientAttestation` is set.
 */

/**
 * A Client Attester the operator trusts (draft §9.8): its signing keys, and what it may vouch for
 * (draft §9.8: "which attester keys may vouch for which client_ids"). At least one of
 * `clientIds`, `softwareIds` or `domains` must be set: an attester trusted for nothing is a
 * configuration mistake.
 */
export interface TrustedAttester {
  /** The operator's name for the attester; recorded as `registeredBy` of the clients it admits. */
  id: string;
  /** Its public signing keys, as a static JWK Set. At least one of `jwks` and `jku` is required. */
  jwks?: JSONWebKeySet;
  /**
   * JWK Set URLs (https) an attestation may name in its `jku` header (draft §9.8: `jku` on an
   * operator allow-list). Exact matches only; fetched through safe-fetch and cached.
   */
  jku?: string[];
  /** The asymmetric JWS algorithms accepted from it. Default: every one in `ATTESTATION_ALGORITHMS`. */
  algorithms?: string[];
  /** client_ids it may vouch for at the token endpoint. */
  clientIds?: string[];
  /**
   * software_ids (RFC 7591 §2) it vouches for: at registration its attestation's `sub` is the
   * software_id; at the token endpoint it may vouch for any client registered with one of them.
   */
  softwareIds?: string[];
  /**
   * Host names it vouches for (each with its subdomains): a client whose every redirect_uri (and
   * client_uri) host lies in them.
   */
  domains?: string[];
}

/**
 * Stateless challenges (draft §6; item E.24 of the project's checklist): an HMAC of a server
 * secret and a time step, the same on every instance that shares the secret, no storage. Setting
 * this offers the challenge endpoint, and then every PoP must carry a challenge (draft §6.1).
 */
export interface AttestationChallengeOptions {
  /** At least 32 characters; share it between instances. */
  secret: string;
  /** The challenge endpoint's absolute URL, advertised as `challenge_endpoint` (draft §8). */
  endpoint: string;
  /** Length of a time step in seconds. Default 60. */
  stepSeconds?: number;
  /** How many steps a challenge stays valid, the current one included. Default 5. */
  validSteps?: number;
}

export interface ClientAttestationOptions {
  /** The trusted attesters. */
  attesters: TrustedAttester[];
  /** The accepted window around a PoP's `iat`, in seconds, both ways (draft §11.1). Default 300. */
  popMaxAgeSeconds?: number;
  /** When set: an attestation older than this (by its `iat`) is `use_fresh_attestation` (draft §7.4). */
  attestationMaxAgeSeconds?: number;
  /** Stateless challenges (draft §6); off by default. */
  challenge?: AttestationChallengeOptions;
  /**
   * Where used PoP `jti` values are remembered (draft §11.1). Default: this process's memory;
   * share one across instances (the reference server uses its database).
   */
  replayGuard?: ClientAssertionReplayGuard;
}

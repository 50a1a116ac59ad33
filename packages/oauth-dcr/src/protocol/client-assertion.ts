import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import type { ClientAssertionOptions, ClientAssertionReplayGuard } from '../core/options.js';
import { hashSecret } from '../core/secrets.js';
import { createFetchCache } from '../net/fetch-cache.js';
import { SafeFetchError, type SafeFetchOptions } from '../net/safe-fetch.js';
import type { ClientRecord } from '../store/types.js';
import { CLIENT_ASSERTION_ALGORITHMS, checkKeySource } from '../metadata/client-keys.js';
import { checkClientAuthMethod } from './client-auth.js';
import { createMemoryReplayGuard } from '../core/replay-guard.js';

/**
 * `private_key_jwt` client authentication: a JWT the client signs with its own key (RFC 7523
 * §2.2, §3; OIDC Core §9), verified with jose against the keys the client registered (`jwks`) or
 * published (`jwks_uri`, fetched through safe-fetch). Every rule of §3, as tightened by RFC 10070,
 * lives here; hosts see one answer: accepted, or refused with a description for `invalid_client`
 * (RFC 7521 §4.2.1).
 */

/** The outcome of verifying one client assertion. */
export type ClientAssertionVerification = { ok: true } | { ok: false; description: string };

export interface ClientAssertionVerifier {
  /** Verifies `assertion` as `client`'s authentication; uses up its `jti` when it is accepted. */
  verify(assertion: string, client: ClientRecord): Promise<ClientAssertionVerification>;
}

/** RFC 10070 §4's explicit type; `JWT` or no `typ` at all are accepted too. */
const CLIENT_AUTHENTICATION_TYP = 'client-authentication+jwt';
/** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. */
const CLOCK_SKEW_SECONDS = 30;
const DEFAULT_MAX_LIFETIME_SECONDS = 300;
/** An unknown `kid` refetches a client's jwks_uri at most this often, so forged kids cannot make us fetch on every request. */
const REFETCH_INTERVAL_MS = 30_000;
/** jwks_uri documents kept; each confidential client usually has one. */
const KEY_SET_CACHE_ENTRIES = 500;
const JWKS_MEDIA_TYPES = ['application/json', 'application/jwk-set+json'];

export interface ClientAssertionVerifierSettings extends ClientAssertionOptions {
  /** Whether the deployment enables private_key_jwt (`tokenEndpointAuthMethods`); off, every assertion is refused. */
  enabled: boolean;
  /** The deployment's issuer: the default audience. */
  issuer?: string;
  /** Options for fetching jwks_uri through safe-fetch. */
  outboundFetch?: SafeFetchOptions;
  /** Clock in epoch seconds. */
  now?: () => number;
}

/**
 * Builds the verifier once, at start-up: bad settings throw a TypeError then. An enabled
 * private_key_jwt needs an audience (the issuer), since RFC 10070 makes it the only one accepted.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 */
export function createClientAssertionVerifier(settings: ClientAssertionVerifierSettings): ClientAssertionVerifier {
  const audience = settings.audience ?? settings.issuer;
  if (settings.audience !== undefined && !isAbsoluteUrl(settings.audience)) {
    throw new TypeError('oauth-dcr: clientAssertions.audience must be an absolute URL (the issuer)');
  }
  if (settings.enabled && audience === undefined) {
    throw new TypeError('oauth-dcr: private_key_jwt needs the issuer option (or clientAssertions.audience)');
  }
  const maxLifetime = settings.maxLifetimeSeconds ?? DEFAULT_MAX_LIFETIME_SECONDS;
  if (!Number.isInteger(maxLifetime) || maxLifetime < 1) {
    throw new TypeError('oauth-dcr: clientAssertions.maxLifetimeSeconds must be a whole number of seconds >= 1');
  }
  const replayGuard: ClientAssertionReplayGuard = settings.replayGuard ?? createMemoryReplayGuard();
  if (typeof replayGuard.useOnce !== 'function') {
    throw new TypeError('oauth-dcr: clientAssertions.replayGuard must have a useOnce(key, expiresAt) method');
  }
  const now = settings.now ?? (() => Math.floor(Date.now() / 1000));
  const keySets = clientKeySets(settings.outboundFetch ?? {});

  async function verify(assertion: string, client: ClientRecord): Promise<ClientAssertionVerification> {
    if (!settings.enabled) return refuse('private_key_jwt is not enabled on this server');
    const metadata = client.metadata;
    // RFC 7591 §2: the method defaults to client_secret_basic.
    const registeredMethod =
      typeof metadata.token_endpoint_auth_method === 'string'
        ? metadata.token_endpoint_auth_method
        : 'client_secret_basic';
    const wrongMethod = checkClientAuthMethod(registeredMethod, 'private_key_jwt');
    if (wrongMethod !== undefined) return refuse(wrongMethod);

    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      return refuse('client_assertion is not a well-formed JWT');
    }
    const alg = header.alg;
    // RFC 7523 §3 item 9 and RFC 7518 §3.1: asymmetric signatures only; never none or HS*.
    if (typeof alg !== 'string' || !CLIENT_ASSERTION_ALGORITHMS.includes(alg)) {
      return refuse(`client_assertion alg ${String(alg)} is not accepted (asymmetric algorithms only)`);
    }
    // OIDC DCR §2: token_endpoint_auth_signing_alg, when registered, is the only one the client may use.
    const registeredAlg = metadata.token_endpoint_auth_signing_alg;
    if (typeof registeredAlg === 'string' && registeredAlg !== alg) {
      return refuse(
        `This client registered token_endpoint_auth_signing_alg ${registeredAlg}; the assertion uses ${alg}`,
      );
    }
    // RFC 8725 §3.11: a JWT explicitly typed as another kind (an access token, a DPoP proof) is not
    // a client assertion. RFC 10070 §4: a missing typ is still accepted.
    if (!isClientAuthenticationTyp(header.typ)) {
      return refuse(`client_assertion typ ${String(header.typ)} is not a client authentication JWT`);
    }

    const clock = now();
    const options: JWTVerifyOptions = {
      algorithms: [alg],
      // RFC 7523 §3 items 1-2: iss and sub are both the client_id.
      issuer: client.clientId,
      subject: client.clientId,
      // RFC 7523 §3 items 4 and 7: exp is required, and jti for replay protection.
      requiredClaims: ['exp', 'jti', 'aud'],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(clock * 1000),
    };
    let payload: JWTPayload;
    try {
      payload = await verifyWithClientKeys(assertion, options, keySets, client);
    } catch (error) {
      return refuse(describeFailure(error));
    }

    // RFC 10070 §4 (updating RFC 7523 §3 item 3): the audience is the issuer identifier, as the
    // sole value: a string, or an array of exactly one. The token endpoint URL is no longer accepted.
    const aud = payload.aud;
    const soleAudience = typeof aud === 'string' ? aud : Array.isArray(aud) && aud.length === 1 ? aud[0] : undefined;
    if (soleAudience !== audience) {
      return refuse(`client_assertion aud must be exactly this server's issuer identifier (${audience})`);
    }

    // RFC 7523 §3 item 4 leaves the lifetime to the server: a long-lived assertion is a reusable
    // credential, so it is capped (from iat, or from now when the client sent none).
    const exp = payload.exp!;
    const iat = typeof payload.iat === 'number' ? payload.iat : clock;
    if (iat > clock + CLOCK_SKEW_SECONDS) return refuse('client_assertion iat is in the future');
    if (exp - iat > maxLifetime) {
      return refuse(`client_assertion lives longer than ${maxLifetime} seconds (exp - iat)`);
    }

    // RFC 7523 §3 item 7: each jti once, until the assertion expires. Checked last, so that only a
    // verified assertion can use up a jti.
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti === '') return refuse('client_assertion jti must be a non-empty string');
    let firstUse: boolean;
    try {
      firstUse = await replayGuard.useOnce(replayKey(client.clientId, jti), exp + CLOCK_SKEW_SECONDS);
    } catch {
      return refuse('client_assertion could not be checked for replay; try again with a new assertion');
    }
    if (!firstUse) return refuse('client_assertion has been used before (its jti is single use)');
    return { ok: true };
  }

  return { verify };
}

const refuse = (description: string): ClientAssertionVerification => ({ ok: false, description });

/** Fixed length whatever the jti, and one client's jti never collides with another's. */
function replayKey(clientId: string, jti: string): string {
  return hashSecret(JSON.stringify([clientId, jti]));
}

function isClientAuthenticationTyp(typ: unknown): boolean {
  if (typ === undefined) return true;
  if (typeof typ !== 'string') return false;
  // RFC 7515 §4.1.9: "application/" may be omitted, and media types compare case-insensitively.
  const type = typ.toLowerCase().replace(/^application\//, '');
  return type === 'jwt' || type === CLIENT_AUTHENTICATION_TYP;
}

function isAbsoluteUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** The client's keys, from its metadata (RFC 7591 §2 `jwks` or `jwks_uri`, never both). */
interface ClientKeySets {
  inline(jwks: JSONWebKeySet): JWTVerifyGetKey;
  /** The keys at `uri`; `refresh` forgets the cached copy first, at most once per REFETCH_INTERVAL_MS. */
  remote(uri: string, refresh: boolean): Promise<JWTVerifyGetKey | undefined>;
}

function clientKeySets(fetchOptions: SafeFetchOptions): ClientKeySets {
  const documents = createFetchCache({ maxEntries: KEY_SET_CACHE_ENTRIES });
  // Parsed key sets, per document object: a cached document is the same (frozen) object until it expires.
  const parsed = new WeakMap<object, JWTVerifyGetKey>();
  const lastRefetch = new Map<string, number>();
  const keySetOf = (jwks: object): JWTVerifyGetKey => {
    let keys = parsed.get(jwks);
    if (keys === undefined) {
      keys = createLocalJWKSet(jwks as JSONWebKeySet);
      parsed.set(jwks, keys);
    }
    return keys;
  };
  return {
    inline: keySetOf,
    async remote(uri, refresh) {
      if (refresh) {
        const last = lastRefetch.get(uri);
        if (last !== undefined && Date.now() - last < REFETCH_INTERVAL_MS) return undefined;
        lastRefetch.delete(uri);
        lastRefetch.set(uri, Date.now());
        // Bounded like the documents: the oldest stamps go first.
        if (lastRefetch.size > KEY_SET_CACHE_ENTRIES) lastRefetch.delete(lastRefetch.keys().next().value!);
        documents.delete(uri);
      }
      const jwks = await documents.json(uri, { ...fetchOptions, accept: JWKS_MEDIA_TYPES });
      if (typeof jwks !== 'object' || jwks === null) throw new joseErrors.JWKSInvalid('JSON Web Key Set malformed');
      return keySetOf(jwks);
    },
  };
}

/**
 * jwtVerify against the client's keys. Keys without a `kid` match any assertion of their type
 * (the MCP SDK sends none), so every matching key is tried. An assertion naming a key the cached
 * jwks_uri lacks refetches it once: the client may have rotated its keys (RFC 7517 §4.5).
 */
async function verifyWithClientKeys(
  assertion: string,
  options: JWTVerifyOptions,
  keySets: ClientKeySets,
  client: ClientRecord,
): Promise<JWTPayload> {
  const { jwks, jwks_uri: jwksUri } = client.metadata;
  try {
    // The registration rules, again: a record may predate them, or come from the host's createClient.
    checkKeySource(client.metadata, 'private_key_jwt');
  } catch (error) {
    throw new KeyProblem(`This client's keys cannot be used: ${(error as Error).message}`);
  }
  if (jwks !== undefined) return verifyWithKeySet(assertion, keySets.inline(jwks as JSONWebKeySet), options);
  if (typeof jwksUri !== 'string') throw new KeyProblem('This client has no usable jwks_uri');
  const keys = await loadRemote(keySets, jwksUri, false);
  try {
    return await verifyWithKeySet(assertion, keys!, options);
  } catch (error) {
    if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
    const refreshed = await loadRemote(keySets, jwksUri, true);
    if (refreshed === undefined) throw error;
    return verifyWithKeySet(assertion, refreshed, options);
  }
}

async function loadRemote(keySets: ClientKeySets, uri: string, refresh: boolean) {
  try {
    return await keySets.remote(uri, refresh);
  } catch (error) {
    const reason = error instanceof SafeFetchError ? error.reason : 'not a JSON Web Key Set';
    throw new KeyProblem(`The client's jwks_uri could not be loaded (${reason})`);
  }
}

async function verifyWithKeySet(
  assertion: string,
  keys: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(assertion, keys, options)).payload;
  } catch (error) {
    if (!(error instanceof joseErrors.JWKSMultipleMatchingKeys)) throw error;
    // jose leaves the choice among several matching keys to the caller: the first that verifies wins.
    let last: unknown = error;
    for await (const key of error as unknown as AsyncIterable<VerificationKey>) {
      try {
        return (await jwtVerify(assertion, key, options)).payload;
      } catch (failure) {
        last = failure;
        if (!(failure instanceof joseErrors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw last;
  }
}

/** A key jwtVerify takes as is (not a key set function). */
type VerificationKey = Exclude<Parameters<typeof jwtVerify>[1], JWTVerifyGetKey>;

/** The client's keys cannot be used; the message is the description. */
class KeyProblem extends Error {}

function describeFailure(error: unknown): string {
  if (error instanceof KeyProblem) return error.message;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'client_assertion signature does not verify with the client’s keys';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'No key of the client matches the client_assertion';
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys)
    return 'client_assertion signature does not verify with the client’s keys';
  if (error instanceof joseErrors.JWTExpired) return 'client_assertion has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `client_assertion ${error.message}`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'client_assertion alg is not accepted';
  if (error instanceof joseErrors.JWKSInvalid) return 'The client’s keys are not a valid JSON Web Key Set';
  return 'client_assertion is malformed';
}

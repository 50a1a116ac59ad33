import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { importPeer } from '../core/peer-dependency.js';
import type { Registration } from '../protocol/create-registration.js';
import { checkResource, sameResource } from './mcp-resource.js';
import { cacheVerifiedTokens } from './mcp-token-cache.js';

export {
  sameResource,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  protectedResourceMetadataHandler,
  type ProtectedResourceMetadata,
  type ProtectedResourceOptions,
} from './mcp-resource.js';

// The MCP SDK is an optional peer: `requireBearerAuth` recognises a failed verification only by
// its own error classes (instanceof), so the verifier must throw those, not look-alikes.
const { InvalidTokenError, InvalidClientMetadataError, ServerError } = await importPeer(
  () => import('@modelcontextprotocol/sdk/server/auth/errors.js'),
  {
    subpath: 'oauth-dcr/mcp',
    packages: ['@modelcontextprotocol/sdk'],
    install: 'npm install @modelcontextprotocol/sdk',
  },
);

/**
 * What a verified access token says, in the shape of the MCP SDK's `AuthInfo` (structural, so the
 * declarations need no SDK types). `requireBearerAuth` stores it on `req.auth`.
 */
export interface McpAuthInfo {
  /** The access token as presented. */
  token: string;
  /** The client the token was issued to (RFC 9068 §2.2 `client_id`). */
  clientId: string;
  /** The granted scope values (RFC 9068 §2.2.3 `scope`, split on spaces). */
  scopes: string[];
  /** Expiry in epoch seconds; the SDK refuses a token without one. */
  expiresAt: number;
  /** The audience value that matched this server's resource (RFC 8707). */
  resource: URL;
  /** `subject` (the user, RFC 9068 §2.2 `sub`) and the verified `claims`. */
  extra: { subject?: string; claims: Record<string, unknown> };
}

/** The MCP SDK's `OAuthTokenVerifier`: pass it to `requireBearerAuth({ verifier })`. */
export interface McpTokenVerifier {
  verifyAccessToken(token: string): Promise<McpAuthInfo>;
}

/** RFC 7662 introspection: the endpoint and the credentials this server was given to call it. */
export interface IntrospectionOptions {
  endpoint: string | URL;
  clientId: string;
  clientSecret: string;
}

export interface TokenVerifierOptions {
  /** The authorization server's `issuer`, compared byte for byte (RFC 8414 §3.3). */
  issuer: string;
  /** This MCP server's resource identifier (RFC 8707 / RFC 9728 `resource`): tokens must name it in `aud`. */
  resource: string | URL;
  /** Where the signing keys are; discovered from the issuer's RFC 8414 metadata when omitted. */
  jwksUri?: string | URL;
  /** Ask the authorization server about every token instead of verifying JWTs locally. */
  introspection?: IntrospectionOptions;
  /** Accepted JWS algorithms; asymmetric only (RFC 9068 §4). */
  algorithms?: string[];
  /** Seconds of clock skew allowed on `iat` and `nbf`. Default 5. */
  clockTolerance?: number;
  /**
   * Seconds after a key fetch during which a token with an unknown `kid` does not make another
   * one, so that forged tokens cannot hammer the issuer. Default 30.
   */
  keyRefetchCooldown?: number;
  /**
   * JWTs only: seconds a verified token is reused without checking its signature again, never
   * past its `exp`. A token whose key the issuer removes from its JWKS stays accepted until then.
   * Default 60; 0 verifies every call. Introspection is never cached: revocation shows at once.
   */
  verifiedTokenCacheSeconds?: number;
  /** JWTs only: how many verified tokens are kept, least recently used dropped first. Default 5000. */
  verifiedTokenCacheSize?: number;
}

const ASYMMETRIC_ALGORITHMS = 'ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA Ed25519'.split(' ');
// RFC 9068 §2.2: the claims every JWT access token carries.
const REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];
const FETCH_TIMEOUT_MS = 5_000;

/*
 * Outbound requests here (metadata, jwks_uri, introspection) go only to URLs the operator
 * configured or the configured issuer published, never to a URL taken from a token or a client:
 * nobody outside can aim them. They are not sent through safe-fetch, whose private-address block
 * is meant for client-supplied URLs and would refuse the common case of an authorization server
 * on the same host or private network as the MCP server.
 */

/** Thrown by the key source when the keys cannot be had at all: a 500, not the client's fault. */
class KeysUnavailable extends Error {}

/**
 * A token verifier for the MCP SDK's `requireBearerAuth`. With JWTs (the default), it verifies the
 * RFC 9068 access token against the issuer's published keys (cached, and fetched again for an
 * unknown `kid`): signature, `typ: at+jwt`, `iss`, `exp`, and an `aud` naming this resource, then
 * reuses the result for the same token up to `verifiedTokenCacheSeconds`, never past `exp`. With
 * `introspection`, it asks the authorization server (RFC 7662) about every token, uncached, and so
 * sees revocation at once.
 *
 * The audience check is the point: the SDK does not check it, and a token issued for another MCP
 * server must not work here (MCP "Token Handling"; RFC 8707 §2; RFC 9068 §4).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 */
export function createTokenVerifier(options: TokenVerifierOptions): McpTokenVerifier {
  const resource = checkResource(options.resource);
  // Without an issuer jose would skip the `iss` check: any issuer's token would do.
  if (typeof options.issuer !== 'string' || !URL.canParse(options.issuer)) {
    throw new TypeError('createTokenVerifier: issuer must be the authorization server issuer URL');
  }
  if (options.jwksUri !== undefined && options.introspection !== undefined) {
    throw new TypeError('createTokenVerifier: give jwksUri or introspection, not both');
  }
  if (options.introspection) {
    if (options.verifiedTokenCacheSeconds !== undefined || options.verifiedTokenCacheSize !== undefined) {
      throw new TypeError('createTokenVerifier: introspection answers are never cached (revocation must show at once)');
    }
    return introspectionVerifier(options.introspection, options.issuer, resource);
  }

  const algorithms = options.algorithms ?? ASYMMETRIC_ALGORITHMS;
  if (algorithms.some((alg) => alg === 'none' || alg.startsWith('HS'))) {
    throw new TypeError('createTokenVerifier: access tokens are verified with asymmetric algorithms only');
  }
  const keys = keySource(options.jwksUri, options.issuer, (options.keyRefetchCooldown ?? 30) * 1000);
  const verify = async (token: string): Promise<McpAuthInfo> => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        typ: 'at+jwt', // RFC 9068 §4: refuse other JWTs (ID tokens, client assertions)
        algorithms,
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: options.clockTolerance ?? 5,
      }));
    } catch (error) {
      if (error instanceof KeysUnavailable) throw new ServerError('The token signing keys are unavailable');
      throw new InvalidTokenError('The access token is invalid or expired');
    }
    return authInfo(token, payload, resource);
  };
  // Clients reuse one token for many calls: its verification is cached (why that is safe: mcp-token-cache.ts).
  const cached = cacheVerifiedTokens(
    { seconds: options.verifiedTokenCacheSeconds ?? 60, maxEntries: options.verifiedTokenCacheSize ?? 5000 },
    verify,
  );
  return { verifyAccessToken: (token) => cached(token) };
}

/** The keys, from a configured `jwks_uri`, or from the one the issuer publishes (RFC 8414 §2). */
function keySource(jwksUri: string | URL | undefined, issuer: string, cooldownDuration: number): JWTVerifyGetKey {
  let remote: Promise<JWTVerifyGetKey> | undefined;
  const load = async () =>
    createRemoteJWKSet(new URL(jwksUri ?? (await discoverJwksUri(issuer))), {
      timeoutDuration: FETCH_TIMEOUT_MS,
      cooldownDuration,
    });
  return async (header, token) => {
    remote ??= load();
    let getKey: JWTVerifyGetKey;
    try {
      getKey = await remote;
    } catch (error) {
      remote = undefined; // try the discovery again on the next request
      throw new KeysUnavailable(String(error));
    }
    try {
      return await getKey(header, token);
    } catch (error) {
      // No key with that kid, even after the refetch jose makes: the token is not the issuer's.
      if (error instanceof joseErrors.JWKSNoMatchingKey) throw error;
      throw new KeysUnavailable(String(error));
    }
  };
}

/** RFC 8414 §3.1: metadata at the well-known path inserted before the issuer's path. */
async function discoverJwksUri(issuer: string): Promise<string> {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname;
  const response = await fetch(new URL(`/.well-known/oauth-authorization-server${path}`, url.origin), {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error(`authorization server metadata: HTTP ${response.status}`);
  const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // RFC 8414 §3.3: metadata naming another issuer must not be used.
  if (metadata.issuer !== issuer) throw new Error('authorization server metadata names another issuer');
  if (typeof metadata.jwks_uri !== 'string') throw new Error('authorization server metadata has no jwks_uri');
  return metadata.jwks_uri;
}

function introspectionVerifier(introspection: IntrospectionOptions, issuer: string, resource: URL): McpTokenVerifier {
  // RFC 7662 §2.1 with client_secret_basic: RFC 6749 §2.3.1 form-encodes both parts first.
  const credentials = Buffer.from(
    `${encodeURIComponent(introspection.clientId)}:${encodeURIComponent(introspection.clientSecret)}`,
  ).toString('base64');
  return {
    async verifyAccessToken(token) {
      let response: Response;
      try {
        response = await fetch(introspection.endpoint, {
          method: 'POST',
          headers: {
            authorization: `Basic ${credentials}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
          signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        });
      } catch {
        throw new ServerError('The introspection endpoint is unavailable');
      }
      // Any other answer (401 for our own credentials, 5xx) is the deployment's problem, not the client's.
      if (response.status !== 200) throw new ServerError('The introspection endpoint refused the request');
      const answer = (await response.json().catch(() => null)) as Record<string, unknown> | null;
      // RFC 7662 §2.2: only `active: true` means the token may be used.
      if (answer?.active !== true) throw new InvalidTokenError('The access token is not active');
      if (answer.iss !== undefined && answer.iss !== issuer) {
        throw new InvalidTokenError('The access token was issued by another authorization server');
      }
      return authInfo(token, answer, resource);
    },
  };
}

/** The checks common to both sources, then the SDK's AuthInfo. */
function authInfo(token: string, claims: Record<string, unknown>, resource: URL): McpAuthInfo {
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  // RFC 8707 §2 / RFC 9068 §4: the token must name this resource among its audiences.
  const matched = audiences.find((aud): aud is string => typeof aud === 'string' && sameResource(aud, resource));
  if (matched === undefined) throw new InvalidTokenError('The access token was not issued for this resource');
  const exp = claims.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new InvalidTokenError('The access token has no expiry');
  if (exp <= Date.now() / 1000) throw new InvalidTokenError('The access token has expired');
  if (typeof claims.client_id !== 'string') throw new InvalidTokenError('The access token names no client');
  const scope = typeof claims.scope === 'string' ? claims.scope : '';
  return {
    token,
    clientId: claims.client_id,
    scopes: scope.split(' ').filter(Boolean),
    expiresAt: exp,
    resource: new URL(matched),
    extra: { ...(typeof claims.sub === 'string' ? { subject: claims.sub } : {}), claims },
  };
}

/** The MCP SDK's `OAuthRegisteredClientsStore`, over an oauth-dcr registration. */
export interface McpClientsStore {
  getClient(clientId: string): Promise<McpClientInformation | undefined>;
  registerClient(client: Record<string, unknown>): Promise<never>;
}

/** A client as the SDK's `OAuthClientInformationFull`: the registered metadata plus its id. */
export type McpClientInformation = Record<string, unknown> & {
  client_id: string;
  client_id_issued_at?: number;
  redirect_uris: string[];
};

/**
 * The clients of an oauth-dcr registration, for the MCP SDK's `mcpAuthRouter` (an authorization
 * server run inside the MCP server). Registration itself stays oauth-dcr's: mount
 * `expressRegistration(dcr)` at `/register` *before* `mcpAuthRouter`, so that the policy, RFC 7592
 * management and hashed secrets apply. `registerClient` exists only so that the SDK advertises
 * `registration_endpoint` in its metadata; if a request ever reaches it, the router was mounted in
 * the wrong order, and it refuses instead of registering a client outside the policy.
 *
 * `getClient` resolves through `registration.resolveClient`, so Client ID Metadata Documents work
 * wherever the registration enables them. It serves public clients (`none`) only: the SDK checks
 * a client secret by comparing it with a plaintext `client_secret`, which oauth-dcr never keeps,
 * and handing the SDK a confidential client without one would let it in with no secret at all.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 */
export function mcpClientsStore(registration: Registration): McpClientsStore {
  return {
    async getClient(clientId) {
      const record = await registration.resolveClient(clientId);
      if (!record || record.clientSecretHash !== undefined) return undefined;
      if (record.metadata.token_endpoint_auth_method !== 'none') return undefined;
      const redirectUris = record.metadata.redirect_uris;
      return {
        ...record.metadata,
        redirect_uris: Array.isArray(redirectUris) ? redirectUris.filter((u) => typeof u === 'string') : [],
        client_id: record.clientId,
        client_id_issued_at: record.clientIdIssuedAt,
      };
    },
    async registerClient() {
      throw new InvalidClientMetadataError(
        `Registration is served by oauth-dcr: mount expressRegistration at ${registration.registrationPath} before mcpAuthRouter`,
      );
    },
  };
}

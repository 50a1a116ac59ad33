import { randomUUID } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import type { SigningKeyRing } from './signing-keys.js';

/**
 * RFC 9068 JWT access tokens, issued for tokens bound to a resource, so that a resource server
 * (an MCP server in another process) verifies them with the keys at jwks_uri alone. Tokens
 * without a resource audience stay opaque: only this server can read them.
 *
 * The token is still stored, as the SHA-256 of the whole JWT, like an opaque token: that is how
 * revocation (RFC 7009) and introspection (RFC 7662) find it.
 */
export interface AccessTokenClaims {
  issuer: string;
  /** RFC 8707 §2.2 / RFC 9068 §3: the one resource the token is for. */
  audience: string;
  /** The user, or the client itself for client_credentials (RFC 9068 §2.2). */
  subject: string;
  clientId: string;
  scope?: readonly string[];
  /** Seconds from now until `exp`. */
  lifetime: number;
}

export async function mintAccessToken(keys: SigningKeyRing, claims: AccessTokenClaims): Promise<string> {
  const { kid, alg, key } = await keys.signingKey();
  const iat = Math.floor(Date.now() / 1000);
  // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti are required; scope when granted.
  return (
    new SignJWT({
      client_id: claims.clientId,
      ...(claims.scope && claims.scope.length > 0 ? { scope: claims.scope.join(' ') } : {}),
    })
      // RFC 9068 §2.1: typ "at+jwt", so that no other kind of JWT passes for an access token.
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .setIssuer(claims.issuer)
      .setAudience(claims.audience)
      .setSubject(claims.subject)
      .setIssuedAt(iat)
      .setExpirationTime(iat + claims.lifetime)
      .setJti(randomUUID())
      .sign(key)
  );
}

/** The issue and expiry times this server wrote into one of its own JWT access tokens. */
export function jwtTimes(token: string): { iat: number; exp: number } | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { iat, exp } = decodeJwt(token);
    return typeof iat === 'number' && typeof exp === 'number' ? { iat, exp } : undefined;
  } catch {
    return undefined;
  }
}

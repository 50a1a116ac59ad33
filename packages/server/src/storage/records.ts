import { checkStorableText } from 'oauth-dcr';

/**
 * What the reference server stores besides clients: users, authorization codes and tokens. Codes
 * and tokens are kept only as SHA-256 hashes (src/secrets.ts): a leaked table holds nothing usable.
 * Timestamps are epoch seconds.
 */

export interface UserRecord {
  id: string;
  username: string;
  /** scrypt, see ../passwords.ts. */
  passwordHash: string;
  createdAt: number;
}

export interface AuthorizationCodeRecord {
  codeHash: string;
  /** The grant this code starts: every token issued from it, and from its refreshes, shares the id. */
  grantId: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  /** RFC 6749 §4.1.3: the token request must repeat redirect_uri only if the authorization request sent it. */
  redirectUriSent: boolean;
  scope?: string[];
  /** RFC 8707 §2: the resources the user granted, canonical (see ../resources.ts). */
  resources?: string[];
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
  createdAt: number;
  /** Set once the code has been exchanged; a second exchange is a replay (RFC 6749 §4.1.2). */
  usedAt?: number;
}

export type TokenKind = 'access' | 'refresh';

export interface TokenRecord {
  tokenHash: string;
  kind: TokenKind;
  grantId: string;
  clientId: string;
  /** Absent for client_credentials tokens, which act for the client itself. */
  userId?: string;
  scope?: string[];
  /**
   * RFC 8707: for an access token, its one audience (absent: no resource audience, good only at
   * /userinfo); for a refresh token, every resource of the grant, which later access tokens may
   * narrow to (§2.2).
   */
  resources?: string[];
  expiresAt: number;
  createdAt: number;
  revokedAt?: number;
  /**
   * A refresh token issued to a client that authenticated with a Client Attestation: the RFC 7638
   * thumbprint of the attested instance key, which every refresh must attest again
   * (draft-ietf-oauth-attestation-based-client-auth-10 §9.3).
   */
  instanceKey?: string;
}

/**
 * An access-token signing key (RFC 9068 §2). The newest key not retired signs; a retired key
 * stays published at jwks_uri until every token it signed has expired, then is deleted.
 */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** The public JWK, as published. */
  publicJwk: string;
  /** The private JWK, as stored (see ../signing-keys.ts for how it is protected). */
  privateJwk: string;
  createdAt: number;
  retiredAt?: number;
}

export interface SigningKeyStore {
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(record: SigningKeyRecord): Promise<void>;
  /**
   * Stores `record` only when no live (unretired) key exists, atomically against every instance
   * on the same database; resolves whether it was stored. Two instances starting together on an
   * empty database then sign with one key, instead of each publishing only its own until they
   * next re-read the keys.
   */
  insertFirstSigningKey(record: SigningKeyRecord): Promise<boolean>;
  /** Retires every live key except `keepKid`; resolves how many were retired. */
  retireSigningKeys(keepKid: string, at: number): Promise<number>;
  /** Deletes keys retired before `before`; resolves how many went. */
  deleteRetiredSigningKeys(before: number): Promise<number>;
}

/**
 * Single-use keys with an expiry (RFC 7523 §3: a client assertion's jti is used once). Kept
 * in the database so that every instance behind a load balancer sees the same uses.
 */
export interface UsedOnceStore {
  /** Records `key` until `expiresAt`; false when it was already recorded and has not expired. */
  useOnce(key: string, expiresAt: number): Promise<boolean>;
  /** Deletes records that expired before `before`. */
  pruneExpired(before: number): Promise<number>;
}

export interface UserStore {
  findUserByName(username: string): Promise<UserRecord | null>;
  findUserById(id: string): Promise<UserRecord | null>;
  /** Creates the user, or sets the password of the existing one. */
  upsertUser(username: string, passwordHash: string, at: number): Promise<UserRecord>;
  countUsers(): Promise<number>;
}

export interface TokenStore {
  insertAuthorizationCode(record: AuthorizationCodeRecord): Promise<void>;
  findAuthorizationCode(codeHash: string): Promise<AuthorizationCodeRecord | null>;
  /** Atomically marks an unused code used; false when it was already used or is unknown. */
  consumeAuthorizationCode(codeHash: string, at: number): Promise<boolean>;
  /** Inserts the tokens of one issuance together (an access token and maybe its refresh token). */
  insertTokens(records: TokenRecord[]): Promise<void>;
  findToken(tokenHash: string): Promise<TokenRecord | null>;
  /** Atomically revokes a live token; false when it was already revoked or is unknown. */
  revokeToken(tokenHash: string, at: number): Promise<boolean>;
  /**
   * Refresh token rotation (RFC 9700 §4.14.2) as one durable write: revokes the live refresh
   * token `tokenHash` at `records[0].createdAt` and inserts `records`, all or nothing. False, with
   * nothing written, when that token was already revoked or is unknown: of two concurrent
   * rotations exactly one wins.
   */
  rotateRefreshToken(tokenHash: string, records: TokenRecord[]): Promise<boolean>;
  /** Revokes every token of a grant and spends its codes; resolves how many tokens changed. */
  revokeGrant(grantId: string, at: number): Promise<number>;
  /** Revokes every token and code of a client (it was deleted, RFC 7592 §2.3). */
  revokeClient(clientId: string, at: number): Promise<number>;
  /** Deletes codes and tokens that expired before `before`; resolves how many rows went. */
  pruneExpired(before: number): Promise<number>;
}

export function joinScope(scope: string[] | undefined): string | null {
  return scope && scope.length > 0 ? scope.join(' ') : null;
}

export function splitScope(scope: string | null): string[] | undefined {
  return scope ? scope.split(' ') : undefined;
}

/*
 * NUL (U+0000): the same rule as the library's stores (src/store/text.ts), since these tables live
 * in the same database and PostgreSQL text cannot hold it. A lookup by a value holding NUL finds
 * nothing, as for any unknown value (see isStorableText there); a record holding one is refused
 * on write, by every backend alike. Its fields are hashes, ids and values /authorize validated.
 */

export function checkStorableCode(record: AuthorizationCodeRecord): void {
  checkStorableText('codeHash', record.codeHash);
  checkStorableText('grantId', record.grantId);
  checkStorableText('clientId', record.clientId);
  checkStorableText('userId', record.userId);
  checkStorableText('redirectUri', record.redirectUri);
  for (const scope of record.scope ?? []) checkStorableText('scope', scope);
  for (const resource of record.resources ?? []) checkStorableText('resource', resource);
  checkStorableText('codeChallenge', record.codeChallenge);
  checkStorableText('codeChallengeMethod', record.codeChallengeMethod);
}

export function checkStorableToken(record: TokenRecord): void {
  checkStorableText('tokenHash', record.tokenHash);
  checkStorableText('kind', record.kind);
  checkStorableText('grantId', record.grantId);
  checkStorableText('clientId', record.clientId);
  checkStorableText('userId', record.userId);
  for (const scope of record.scope ?? []) checkStorableText('scope', scope);
  for (const resource of record.resources ?? []) checkStorableText('resource', resource);
}

export function checkStorableUser(username: string, passwordHash: string): void {
  checkStorableText('username', username);
  checkStorableText('passwordHash', passwordHash);
}

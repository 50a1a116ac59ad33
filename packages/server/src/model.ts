import { randomUUID } from 'node:crypto';
import OAuth2Server from '@node-oauth/oauth2-server';
import type { Registration } from 'oauth-dcr';
import { oauth2ServerClients, type OAuth2ServerClient } from 'oauth-dcr/oauth2-server';
import { generateSecret, hashSecret } from 'oauth-dcr';
import { jwtTimes, mintAccessToken } from './access-tokens.js';
import type { Logger } from './logger.js';
import type { SigningKeyRing } from './signing-keys.js';
import type { TokenRecord, TokenStore, UserStore } from './storage/records.js';
import { findUser, type User } from './users.js';

/**
 * What this server hands @node-oauth/oauth2-server as the "user". The library treats it as
 * opaque and passes the object from a code or refresh token on to `saveToken` unchanged, which
 * is how the grant id follows a grant through code exchange and every refresh rotation.
 */
export interface GrantSubject {
  /** The resource owner; absent for client_credentials, where the client acts for itself. */
  user?: User;
  /** Every code and token of one authorization shares it, so a replay can revoke them all. */
  grantId: string;
  /** RFC 6749 §4.1.3: whether the authorization request carried redirect_uri (set at /authorize). */
  redirectUriSent?: boolean;
  /** RFC 8707: the resources of the grant (set at /authorize, kept through refreshes). */
  resources?: string[];
  /**
   * RFC 8707 §2.2: the one resource the access token being issued is for, chosen among
   * `resources` for this token request (./token-resources.ts). None: an opaque token without a
   * resource audience.
   */
  audience?: string;
  /**
   * The refresh token this token request presented, noted by revokeToken and revoked by saveToken
   * in the same durable write as the new tokens.
   */
  rotates?: string;
  /**
   * The attested instance key thumbprint of the grant's refresh token, and of the one being
   * issued (draft-ietf-oauth-attestation-based-client-auth-10 §9.3; ./token-resources.ts).
   */
  instanceKey?: string;
}

export interface ModelOptions {
  registration: Pick<Registration, 'store' | 'now' | 'clientLimits' | 'resolveClient'>;
  tokens: TokenStore;
  users: UserStore;
  logger: Logger;
  /** RFC 9068: how tokens bound to a resource are signed. */
  jwt: { issuer: string; keys: SigningKeyRing; lifetime: number };
  /**
   * True when `offline_access` is a scope this server lists: a refresh token is then issued only
   * when that scope was granted (OIDC Core §11). Otherwise the client's refresh_token grant decides.
   */
  offlineAccessScope: boolean;
}

export type ReferenceModel = ReturnType<typeof createModel>;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const toSeconds = (date: Date | undefined, fallback: number) => (date ? Math.floor(date.getTime() / 1000) : fallback);

/**
 * The @node-oauth/oauth2-server v5 model: the library's client fragment (getClient,
 * validateRedirectUri, validateScope) plus codes and tokens kept as SHA-256 hashes.
 *
 * Every look-up of a code or token also looks the client up again, so a client deleted through
 * RFC 7592 §2.3 loses its codes and tokens at once, even before the clean-up of its rows.
 */
export function createModel(options: ModelOptions) {
  const { tokens, users, logger } = options;
  const clients = oauth2ServerClients(options.registration);

  /** The client (look-up only) and user a stored code or token belongs to, or null if either is gone. */
  async function owners(
    clientId: string,
    userId: string | undefined,
  ): Promise<{ client: OAuth2ServerClient; user?: User } | null> {
    const client = await clients.getClient(clientId, null);
    if (!client) return null;
    if (userId === undefined) return { client };
    const user = await findUser(users, userId);
    return user ? { client, user } : null;
  }

  /**
   * Inserts the tokens of one issuance; in a refresh, revokes the presented refresh token in the
   * same write (storage/records.ts rotateRefreshToken: all or nothing, so no crash leaves the old
   * token revoked without its successor, or both live). Its conditional update decides: the loser
   * of two concurrent rotations gets invalid_grant and nothing it could use.
   */
  async function insertIssuance(subject: GrantSubject, records: TokenRecord[]): Promise<void> {
    const rotated = subject.rotates;
    delete subject.rotates;
    if (rotated === undefined) {
      await tokens.insertTokens(records);
      return;
    }
    if (!(await tokens.rotateRefreshToken(rotated, records)))
      throw new OAuth2Server.InvalidGrantError('Invalid grant: refresh token is invalid or could not be revoked');
  }

  return {
    ...clients,

    // 256-bit random values (src/secrets.ts), as for client secrets; the library's default is 160 bits.
    async generateAuthorizationCode(): Promise<string> {
      return generateSecret();
    },
    async generateAccessToken(
      client: OAuth2Server.Client,
      subject: GrantSubject,
      scope: string[] | undefined,
    ): Promise<string> {
      // RFC 9068: a token for a resource is a JWT that resource can verify on its own.
      if (!subject.audience) return generateSecret();
      return mintAccessToken(options.jwt.keys, {
        issuer: options.jwt.issuer,
        audience: subject.audience,
        subject: subject.user?.id ?? client.id,
        clientId: client.id,
        ...(scope ? { scope } : {}),
        lifetime: options.jwt.lifetime,
      });
    },
    async generateRefreshToken(): Promise<string> {
      return generateSecret();
    },

    async saveAuthorizationCode(
      code: Pick<
        OAuth2Server.AuthorizationCode,
        'authorizationCode' | 'expiresAt' | 'redirectUri' | 'scope' | 'codeChallenge' | 'codeChallengeMethod'
      >,
      client: OAuth2Server.Client,
      subject: GrantSubject,
    ): Promise<OAuth2Server.AuthorizationCode> {
      if (!subject.user) throw new Error('an authorization code needs a user');
      const now = nowSeconds();
      await tokens.insertAuthorizationCode({
        codeHash: hashSecret(code.authorizationCode),
        grantId: subject.grantId,
        clientId: client.id,
        userId: subject.user.id,
        redirectUri: code.redirectUri,
        redirectUriSent: subject.redirectUriSent ?? true,
        ...(code.scope && code.scope.length > 0 ? { scope: code.scope } : {}),
        ...(subject.resources && subject.resources.length > 0 ? { resources: subject.resources } : {}),
        ...(code.codeChallenge ? { codeChallenge: code.codeChallenge } : {}),
        ...(code.codeChallengeMethod ? { codeChallengeMethod: code.codeChallengeMethod } : {}),
        expiresAt: toSeconds(code.expiresAt, now + 300),
        createdAt: now,
      });
      return { ...code, client, user: subject };
    },

    async getAuthorizationCode(authorizationCode: string): Promise<OAuth2Server.AuthorizationCode | null> {
      if (typeof authorizationCode !== 'string') return null;
      const record = await tokens.findAuthorizationCode(hashSecret(authorizationCode));
      if (!record) return null;
      if (record.usedAt !== undefined) {
        // RFC 6749 §4.1.2 / RFC 9700 §4.5: a code used twice was probably stolen; everything
        // issued from it is revoked.
        const revoked = await tokens.revokeGrant(record.grantId, nowSeconds());
        logger.warn({ clientId: record.clientId, revoked }, 'authorization code replayed; its grant is revoked');
        return null;
      }
      const found = await owners(record.clientId, record.userId);
      if (!found) return null;
      const subject: GrantSubject = { user: found.user, grantId: record.grantId };
      if (record.resources) subject.resources = record.resources;
      return {
        authorizationCode,
        expiresAt: new Date(record.expiresAt * 1000),
        // Empty when the authorization request had no redirect_uri: the library then does not
        // require one at the token endpoint (RFC 6749 §4.1.3).
        redirectUri: record.redirectUriSent ? record.redirectUri : '',
        ...(record.scope ? { scope: record.scope } : {}),
        ...(record.codeChallenge ? { codeChallenge: record.codeChallenge } : {}),
        ...(record.codeChallengeMethod ? { codeChallengeMethod: record.codeChallengeMethod } : {}),
        client: found.client,
        user: subject,
      };
    },

    async revokeAuthorizationCode(code: OAuth2Server.AuthorizationCode): Promise<boolean> {
      // Spent here, durably, and not in saveToken's write as a refresh token is: the library
      // checks the PKCE verifier and redirect_uri only after this call, so that a failed attempt
      // still spends the code (RFC 7636 §4.6: no online guessing of verifiers), and saveToken
      // never runs after a failure. Conditional update: of two concurrent exchanges exactly one wins.
      return tokens.consumeAuthorizationCode(hashSecret(code.authorizationCode), nowSeconds());
    },

    async saveToken(
      token: OAuth2Server.Token,
      client: OAuth2Server.Client,
      subject: GrantSubject,
    ): Promise<OAuth2Server.Token> {
      const now = nowSeconds();
      const common = {
        grantId: subject.grantId,
        clientId: client.id,
        ...(subject.user ? { userId: subject.user.id } : {}),
        ...(token.scope && token.scope.length > 0 ? { scope: token.scope } : {}),
      };
      // The library issues a refresh token with every code exchange; a client that did not
      // register the refresh_token grant could never use it, so it is not issued at all; nor
      // when offline_access is a listed scope that was not granted.
      const issued: OAuth2Server.Token = { ...token, client, user: subject };
      const scope = token.scope ?? [];
      if (
        !clientGrants(client).includes('refresh_token') ||
        (options.offlineAccessScope && !scope.includes('offline_access'))
      ) {
        delete issued.refreshToken;
        delete issued.refreshTokenExpiresAt;
      }
      // A JWT's own iat and exp are what the resource sees: the stored record and expires_in agree.
      const times = subject.audience ? jwtTimes(token.accessToken) : undefined;
      if (times) issued.accessTokenExpiresAt = new Date(times.exp * 1000);
      const records: TokenRecord[] = [
        {
          ...common,
          tokenHash: hashSecret(token.accessToken),
          kind: 'access',
          ...(subject.audience ? { resources: [subject.audience] } : {}),
          expiresAt: times?.exp ?? toSeconds(token.accessTokenExpiresAt, now + 3600),
          createdAt: times?.iat ?? now,
        },
      ];
      if (issued.refreshToken) {
        // The refresh token keeps every resource of the grant: a later refresh may choose
        // another of them (RFC 8707 §2.2), never one outside.
        records.push({
          ...common,
          tokenHash: hashSecret(issued.refreshToken),
          kind: 'refresh',
          ...(subject.resources && subject.resources.length > 0 ? { resources: subject.resources } : {}),
          ...(subject.instanceKey !== undefined ? { instanceKey: subject.instanceKey } : {}),
          expiresAt: toSeconds(token.refreshTokenExpiresAt, now + 14 * 86400),
          createdAt: now,
        });
      }
      await insertIssuance(subject, records);
      return issued;
    },

    async getAccessToken(accessToken: string): Promise<OAuth2Server.Token | null> {
      if (typeof accessToken !== 'string') return null;
      const record = await tokens.findToken(hashSecret(accessToken));
      if (record?.kind !== 'access' || record.revokedAt !== undefined) return null;
      const found = await owners(record.clientId, record.userId);
      if (!found) return null;
      return {
        accessToken,
        accessTokenExpiresAt: new Date(record.expiresAt * 1000),
        ...(record.scope ? { scope: record.scope } : {}),
        client: found.client,
        user: subjectOf(record, found.user),
      };
    },

    async getRefreshToken(refreshToken: string): Promise<OAuth2Server.RefreshToken | null> {
      if (typeof refreshToken !== 'string') return null;
      const record = await tokens.findToken(hashSecret(refreshToken));
      if (record?.kind !== 'refresh') return null;
      if (record.revokedAt !== undefined) {
        // RFC 9700 §4.14.2: a rotated-out refresh token coming back means two parties hold it;
        // the whole grant is revoked so the legitimate client re-authorizes.
        const revoked = await tokens.revokeGrant(record.grantId, nowSeconds());
        if (revoked > 0)
          logger.warn({ clientId: record.clientId, revoked }, 'revoked refresh token reused; its grant is revoked');
        return null;
      }
      const found = await owners(record.clientId, record.userId);
      if (!found) return null;
      return {
        refreshToken,
        refreshTokenExpiresAt: new Date(record.expiresAt * 1000),
        ...(record.scope ? { scope: record.scope } : {}),
        client: found.client,
        user: subjectOf(record, found.user),
      };
    },

    async revokeToken(token: OAuth2Server.RefreshToken): Promise<boolean> {
      // Refresh token rotation (RFC 9700 §4.14.2): the presented token dies as the new one is
      // issued. The library calls saveToken next with token.user, which revokes it in the same
      // write as the new tokens (insertIssuance): one commit per refresh, not two. A request that
      // fails in between (a scope beyond the grant, RFC 6749 §6) leaves the token live: it is
      // replaced only when its successor is issued.
      (token.user as GrantSubject).rotates = hashSecret(token.refreshToken);
      return true;
    },

    async getUserFromClient(client: OAuth2Server.Client): Promise<GrantSubject | null> {
      // client_credentials (RFC 6749 §4.4): the client acts for itself; each issuance is its own grant.
      return client.id ? { grantId: randomUUID() } : null;
    },

    async verifyScope(token: OAuth2Server.Token, required: string[]): Promise<boolean> {
      const granted = token.scope ?? [];
      return required.every((scope) => granted.includes(scope));
    },
  };
}

function clientGrants(client: OAuth2Server.Client): string[] {
  return Array.isArray(client.grants) ? client.grants : [];
}

/** The grant a stored token belongs to: an access token's audience, a refresh token's resources. */
function subjectOf(record: TokenRecord, user: User | undefined): GrantSubject {
  const subject: GrantSubject = { grantId: record.grantId };
  if (user) subject.user = user;
  if (record.instanceKey !== undefined) subject.instanceKey = record.instanceKey;
  if (record.resources) {
    if (record.kind === 'access') subject.audience = record.resources[0]!;
    else subject.resources = record.resources;
  }
  return subject;
}

/** A fresh grant for a user's consent at /authorize. */
export function newGrantSubject(user: User, context: { redirectUriSent: boolean; resources: string[] }): GrantSubject {
  return {
    user,
    grantId: randomUUID(),
    redirectUriSent: context.redirectUriSent,
    ...(context.resources.length > 0 ? { resources: context.resources } : {}),
  };
}

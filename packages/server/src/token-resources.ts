import OAuth2Server from '@node-oauth/oauth2-server';
import type { GrantSubject, ReferenceModel } from './model.js';
import { chooseAudience, InvalidTarget, type ResourcePolicy } from './resources.js';

/**
 * The model for one token request, told which `resource` the request names (RFC 8707 §2.2).
 * @node-oauth/oauth2-server hands the model only the code or refresh token, never the request,
 * so the choice is made where the grant is read, before the code is spent or the refresh token
 * rotated: a request for a resource outside the grant is refused with `invalid_target` and
 * changes nothing.
 *
 * - Code exchange and refresh: the audience is chosen among the grant's resources
 *   (chooseAudience); the grant's resources themselves never change, so a refresh may narrow
 *   the token to one of them but never widen the grant.
 * - client_credentials (no authorization step): the requested resource is checked as at
 *   /authorize.
 */
export function forRequestedResources(
  model: ReferenceModel,
  requested: string[],
  policy: ResourcePolicy,
): ReferenceModel {
  const choose = (subject: GrantSubject) => {
    const audience = targetOrThrow(() => chooseAudience(subject.resources ?? [], requested));
    if (audience === undefined) delete subject.audience;
    else subject.audience = audience;
  };
  const overrides: Partial<ReferenceModel> = {
    async getAuthorizationCode(code) {
      const found = await model.getAuthorizationCode(code);
      if (found) choose(found.user as GrantSubject);
      return found;
    },
    async getRefreshToken(token) {
      const found = await model.getRefreshToken(token);
      if (found) choose(found.user as GrantSubject);
      return found;
    },
    async getUserFromClient(client) {
      const subject = await model.getUserFromClient(client);
      if (!subject) return subject;
      const resources = targetOrThrow(() => policy.forClientCredentials(requested));
      if (resources.length > 0) subject.resources = resources;
      choose(subject);
      return subject;
    },
  };
  return Object.create(
    model,
    Object.fromEntries(Object.entries(overrides).map(([name, value]) => [name, { value, enumerable: true }])),
  ) as ReferenceModel;
}

/** RFC 8707 §2: invalid_target, as the library's OAuthError so that it reaches the client as such. */
function targetOrThrow<T>(decide: () => T): T {
  try {
    return decide();
  } catch (error) {
    if (error instanceof InvalidTarget)
      throw new OAuth2Server.OAuthError(error.message, { code: 400, name: 'invalid_target' });
    throw error;
  }
}

/**
 * The model for one token request, told the attested instance key it authenticated with (the
 * thumbprint, or undefined without a Client Attestation). Refresh tokens issued here are bound to
 * that key, and a refresh token bound to a key is refreshed only by a request attesting the same
 * key (draft-ietf-oauth-attestation-based-client-auth-10 §9.3 MUST): otherwise `invalid_grant`,
 * before the token is rotated.
 */
export function forInstanceKey(model: ReferenceModel, instanceKey: string | undefined): ReferenceModel {
  const overrides: Partial<ReferenceModel> = {
    async getRefreshToken(token) {
      const found = await model.getRefreshToken(token);
      if (found && (found.user as GrantSubject).instanceKey !== instanceKey) {
        throw new OAuth2Server.InvalidGrantError(
          'Invalid grant: the refresh token is bound to another client instance key',
        );
      }
      return found;
    },
    async saveToken(token, client, subject: GrantSubject) {
      if (instanceKey === undefined) delete subject.instanceKey;
      else subject.instanceKey = instanceKey;
      return model.saveToken(token, client, subject);
    },
  };
  return Object.create(
    model,
    Object.fromEntries(Object.entries(overrides).map(([name, value]) => [name, { value, enumerable: true }])),
  ) as ReferenceModel;
}

import type { Registration } from '../http/web.js';
import { redirectUriMatches } from '../metadata/redirect-uris.js';
import { isAcceptedSecret } from '../registration/client-auth.js';
import type { ClientRecord } from '../store/types.js';
import type { Policy } from '../policy.js';

/**
 * A model fragment for @node-oauth/oauth2-server v5: spread it into your model so that
 * registered clients can use /authorize and /token.
 *
 *   const oauth = new OAuth2Server({ model: { ...myModel, ...oauth2ServerClients(dcr) } });
 *
 * It follows the host's calling convention exactly:
 * - `getClient(id, null)` comes from the authorize handler: look up only.
 * - `getClient(id, undefined)` comes from the token handler when no secret was sent (a PKCE
 *   request, or a grant whose client authentication the host made optional): only clients
 *   registered with `token_endpoint_auth_method: none` pass. PKCE does not replace client
 *   authentication (RFC 9700 §2.1.1, RFC 6749 §2.3).
 * - `getClient(id, secret)`: the secret must be the current one (or the previous one during a
 *   renewal overlap) and not expired; compared in constant time.
 *
 * Grants and scopes are held to the client's tier as the policy says today, so narrowing the
 * policy later takes effect for clients registered earlier.
 *
 * One host caveat: RFC 6749 §2.3.1 form-urlencodes client_secret_basic credentials before base64,
 * and @node-oauth/oauth2-server does not decode them. A client id or secret with reserved
 * characters (openid-client encodes each "-" of a UUID as %2D) then fails. Decode the Basic
 * header in front of the library and pass the credentials as client_id/client_secret body
 * parameters; the reference server's token route shows how.
 */
export interface OAuth2ServerClient {
  id: string;
  redirectUris: string[];
  grants: string[];
  /** The registered scope values, when the client registered any. */
  scope?: string[];
  accessTokenLifetime?: number;
  refreshTokenLifetime?: number;
  /** How the client authenticates at the token endpoint (RFC 7591 §2). */
  tokenEndpointAuthMethod: string;
  /** Display name, for consent screens. */
  name?: string;
  /** How the client got in, for consent screens (trust tier). */
  registeredVia: ClientRecord['registeredVia'];
  /**
   * The registered metadata as it was echoed to the client. Read-only: the values inside are the
   * store's frozen record (see src/store/types.ts); copy before changing any.
   */
  metadata: Readonly<Record<string, unknown>>;
}

export interface OAuth2ServerClientsOptions {
  accessTokenLifetime?: number;
  refreshTokenLifetime?: number;
}

export interface OAuth2ServerClientModel {
  getClient(clientId: string, clientSecret?: string | null): Promise<OAuth2ServerClient | null>;
  validateRedirectUri(redirectUri: string, client: { redirectUris?: string | string[] }): Promise<boolean>;
  validateScope(
    user: unknown,
    client: { scope?: string[]; registeredVia?: ClientRecord['registeredVia'] },
    scope?: string[],
  ): Promise<string[] | false>;
}

export function oauth2ServerClients(
  registration: Pick<Registration, 'store' | 'policy'>,
  options: OAuth2ServerClientsOptions = {},
): OAuth2ServerClientModel {
  const { store, policy } = registration;

  return {
    async getClient(clientId, clientSecret) {
      if (typeof clientId !== 'string' || clientId.length === 0) return null;
      const record = await store.findClient(clientId);
      if (!record) return null;
      const client = toHostClient(record, policy, options);
      if (clientSecret === null) return client; // authorize endpoint: look-up only

      const isPublic = client.tokenEndpointAuthMethod === 'none';
      if (clientSecret === undefined || clientSecret === '') {
        if (!isPublic) return null;
      } else if (isPublic || !isAcceptedSecret(record, clientSecret, policy.now())) {
        return null;
      }
      // Fire and forget: the store coalesces these writes off the hot path.
      store.recordClientUse(clientId, policy.now()).catch(() => {});
      return client;
    },

    async validateRedirectUri(redirectUri, client) {
      // A string would be matched by substring somewhere down the line; only arrays are trusted.
      const registered = Array.isArray(client.redirectUris) ? client.redirectUris : [];
      return redirectUriMatches(registered, redirectUri);
    },

    async validateScope(_user, client, scope) {
      const requested = scope ?? [];
      // The tier's scopes bound even what the client registered (the policy may have narrowed).
      const tierScopes = client.registeredVia ? policy.tiers[client.registeredVia].scopesSupported : policy.scopesSupported;
      const ceiling = client.scope
        ? client.scope.filter((s) => !tierScopes || tierScopes.has(s))
        : tierScopes ? [...tierScopes] : undefined;
      if (!ceiling) return requested;
      // No scope requested: the client gets what it registered.
      if (requested.length === 0) return [...ceiling];
      const granted = requested.filter((s) => ceiling.includes(s));
      return granted.length > 0 ? granted : false;
    },
  };
}

function toHostClient(record: ClientRecord, policy: Policy, options: OAuth2ServerClientsOptions): OAuth2ServerClient {
  const metadata = record.metadata;
  const allowedGrants = policy.tiers[record.registeredVia]?.allowedGrantTypes ?? policy.allowedGrantTypes;
  const client: OAuth2ServerClient = {
    id: record.clientId,
    redirectUris: Array.isArray(metadata.redirect_uris) ? [...(metadata.redirect_uris as string[])] : [],
    grants: Array.isArray(metadata.grant_types) ? (metadata.grant_types as string[]).filter((g) => allowedGrants.has(g)) : [],
    tokenEndpointAuthMethod: typeof metadata.token_endpoint_auth_method === 'string'
      ? metadata.token_endpoint_auth_method
      : 'client_secret_basic',
    registeredVia: record.registeredVia,
    metadata: { ...metadata },
  };
  if (typeof metadata.scope === 'string' && metadata.scope.length > 0) client.scope = metadata.scope.split(' ');
  if (typeof metadata.client_name === 'string') client.name = metadata.client_name;
  if (options.accessTokenLifetime !== undefined) client.accessTokenLifetime = options.accessTokenLifetime;
  if (options.refreshTokenLifetime !== undefined) client.refreshTokenLifetime = options.refreshTokenLifetime;
  return client;
}

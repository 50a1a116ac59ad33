import { importPeer } from '../core/peer-dependency.js';
// An optional peer dependency, loaded so that a missing install fails on import with one line.
const { default: OAuth2Server } = await importPeer(() => import('@node-oauth/oauth2-server'), {
  subpath: 'oauth-dcr/oauth2-server',
  packages: ['@node-oauth/oauth2-server'],
  install: 'npm install @node-oauth/oauth2-server',
});
import type { ClientLimits, Registration } from '../protocol/create-registration.js';
import { redirectUriMatches } from '../metadata/redirect-uris.js';
import { checkClientAuthMethod, isAcceptedSecret, type ClientAuthMethod } from '../protocol/client-auth.js';
import type { ClientRecord } from '../store/types.js';

/**
 * A registered client as @node-oauth/oauth2-server sees it: what `getClient` returns. Built from the
 * stored record on every look-up, with grants already held to the client's tier.
 */
export interface OAuth2ServerClient {
  /** The client_id. */
  id: string;
  /** The registered redirect URIs (RFC 7591 §2 `redirect_uris`). */
  redirectUris: string[];
  /** The registered grant types the client's tier still allows. */
  grants: string[];
  /** The registered scope values, when the client registered any. */
  scope?: string[];
  /** Access token lifetime in seconds, from the options; absent means the server's default. */
  accessTokenLifetime?: number;
  /** Refresh token lifetime in seconds, from the options; absent means the server's default. */
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

/** Token lifetimes given to every registered client; the server's defaults when omitted. */
export interface OAuth2ServerClientsOptions {
  /** Access token lifetime in seconds. */
  accessTokenLifetime?: number;
  /** Refresh token lifetime in seconds. */
  refreshTokenLifetime?: number;
}

/** The model methods `oauth2ServerClients` supplies; spread them into your @node-oauth/oauth2-server model. */
export interface OAuth2ServerClientModel {
  /**
   * The client, or null: with `null` for the secret a look-up only (authorize endpoint); otherwise
   * the secret must be accepted, or absent for a public (`none`) client.
   */
  getClient(clientId: string, clientSecret?: string | null): Promise<OAuth2ServerClient | null>;
  /** Whether the redirect URI matches one the client registered (see `redirectUriMatches`). */
  validateRedirectUri(redirectUri: string, client: { redirectUris?: string | string[] }): Promise<boolean>;
  /**
   * The scopes to grant: those requested within the client's registered scopes and its tier's, or
   * all of those when none were requested; false when nothing requested may be granted.
   */
  validateScope(
    user: unknown,
    client: { scope?: string[]; registeredVia?: ClientRecord['registeredVia'] },
    scope?: string[],
  ): Promise<string[] | false>;
}

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
 * getClient is not told how the secret arrived, so it cannot hold a client to the
 * `token_endpoint_auth_method` it registered. Wrap the model per token request with
 * `holdToRegisteredAuthMethod` (below) for that.
 *
 * Grants and scopes are held to the client's tier as the policy says today, so narrowing the
 * policy later takes effect for clients registered earlier.
 *
 * One host caveat: RFC 6749 §2.3.1 form-urlencodes client_secret_basic credentials before base64,
 * and @node-oauth/oauth2-server does not decode them. A client id or secret with reserved
 * characters (openid-client encodes each "-" of a UUID as %2D) then fails. Decode the Basic
 * header in front of the library with `readClientCredentials` and pass the credentials as
 * client_id/client_secret body parameters; the reference server's token route shows how.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2.3
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 */
export function oauth2ServerClients(
  registration: Pick<Registration, 'store' | 'now' | 'clientLimits'>,
  options: OAuth2ServerClientsOptions = {},
): OAuth2ServerClientModel {
  const { store } = registration;

  return {
    async getClient(clientId, clientSecret) {
      if (typeof clientId !== 'string' || clientId.length === 0) return null;
      const record = await store.findClient(clientId);
      if (!record) return null;
      const client = toHostClient(record, registration.clientLimits(record.registeredVia), options);
      if (clientSecret === null) return client; // authorize endpoint: look-up only

      const isPublic = client.tokenEndpointAuthMethod === 'none';
      if (clientSecret === undefined || clientSecret === '') {
        if (!isPublic) return null;
      } else if (isPublic || !isAcceptedSecret(record, clientSecret, registration.now())) {
        return null;
      }
      // Fire and forget: the store coalesces these writes off the hot path.
      store.recordClientUse(clientId, registration.now()).catch(() => {});
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
      const tierScopes = registration.clientLimits(client.registeredVia).scopesSupported;
      const ceiling = client.scope
        ? client.scope.filter((s) => !tierScopes || tierScopes.has(s))
        : tierScopes
          ? [...tierScopes]
          : undefined;
      if (!ceiling) return requested;
      // No scope requested: the client gets what it registered.
      if (requested.length === 0) return [...ceiling];
      const granted = requested.filter((s) => ceiling.includes(s));
      return granted.length > 0 ? granted : false;
    },
  };
}

function toHostClient(
  record: ClientRecord,
  limits: ClientLimits,
  options: OAuth2ServerClientsOptions,
): OAuth2ServerClient {
  const metadata = record.metadata;
  const allowedGrants = limits.allowedGrantTypes;
  const client: OAuth2ServerClient = {
    id: record.clientId,
    redirectUris: Array.isArray(metadata.redirect_uris) ? [...(metadata.redirect_uris as string[])] : [],
    grants: Array.isArray(metadata.grant_types)
      ? (metadata.grant_types as string[]).filter((g) => allowedGrants.has(g))
      : [],
    tokenEndpointAuthMethod:
      typeof metadata.token_endpoint_auth_method === 'string'
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

/**
 * The model for one token request: the same model, whose getClient also holds the client to the
 * `token_endpoint_auth_method` it registered (RFC 7591 §2). A client_secret_basic client that
 * sends its secret in the body, a client_secret_post client that uses HTTP Basic, and a public
 * client that presents a secret are each refused with `invalid_client` (RFC 6749 §5.2), which
 * the library answers with 401 and a Basic challenge when the Authorization header was used.
 *
 * @node-oauth/oauth2-server calls getClient(id, secret) without saying where the secret came
 * from, so the method is read from the request first (`readClientCredentials` from 'oauth-dcr', which also
 * decodes RFC 6749 §2.3.1 Basic credentials and refuses two methods at once) and handed in here.
 * Its token() merges per-call options over the server's, the model included (lib/server.js), so
 * the wrapped model serves that request alone; the type definitions omit `model`, hence the cast:
 *
 *   const credentials = readClientCredentials({ authorization: req.headers.authorization, body: req.body });
 *   if (credentials.kind === 'invalid') return answer(400, 'invalid_request', credentials.description);
 *   const options =
 *     credentials.kind === 'credentials' ? { model: holdToRegisteredAuthMethod(model, credentials.method) } : {};
 *   await oauth.token(request, response, options as OAuth2Server.TokenOptions);
 *
 * The client is the one getClient fetched anyway: no further store look-up. A client without a
 * string `tokenEndpointAuthMethod` (one the host's own getClient supplied, not this fragment)
 * passes unchanged. The wrapper inherits every other model method through its prototype, so a
 * model built as an object literal (as above) keeps working as it was.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export function holdToRegisteredAuthMethod<
  Model extends { getClient(clientId: string, clientSecret?: string | null): Promise<unknown> },
>(model: Model, usedMethod: ClientAuthMethod): Model {
  const getClient = async (clientId: string, clientSecret?: string | null) => {
    const client = await model.getClient(clientId, clientSecret);
    // null: a look-up only (the authorize handler), where nobody authenticates.
    if (!client || clientSecret === null) return client;
    const registeredMethod = (client as { tokenEndpointAuthMethod?: unknown }).tokenEndpointAuthMethod;
    if (typeof registeredMethod !== 'string') return client;
    const refusal = checkClientAuthMethod(registeredMethod, usedMethod);
    if (refusal !== undefined) throw new OAuth2Server.InvalidClientError(refusal);
    return client;
  };
  return Object.create(model, { getClient: { value: getClient, enumerable: true } }) as Model;
}

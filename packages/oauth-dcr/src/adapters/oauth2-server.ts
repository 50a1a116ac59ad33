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

/** The `token_endpoint_auth_method` values (RFC 7591 §2) that a client secret authenticates. */
const SECRET_METHODS: ReadonlySet<string> = new Set(['client_secret_basic', 'client_secret_post']);

/**
 * A model fragment for @node-oauth/oauth2-server v5: spread it into your model so that
 * registered clients can use /authorize and /token. Clients are found through
 * `registration.resolveClient`: stored clients, and Client ID Metadata Documents when those are on.
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
 *   renewal overlap) and not expired; compared in constant time. Only clients registered with
 *   client_secret_basic or client_secret_post have one.
 * - A `private_key_jwt` client is never answered here with credentials: wrap the model with
 *   `holdToClientAssertion` (below) for requests that carry a client assertion.
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
  registration: Pick<Registration, 'store' | 'now' | 'clientLimits' | 'resolveClient'>,
  options: OAuth2ServerClientsOptions = {},
): OAuth2ServerClientModel {
  return {
    async getClient(clientId, clientSecret) {
      if (typeof clientId !== 'string' || clientId.length === 0) return null;
      // A stored client, or a Client ID Metadata Document, wherever the host looks a client up.
      const record = await registration.resolveClient(clientId);
      if (!record) return null;
      const client = toHostClient(record, registration.clientLimits(record.registeredVia), options);
      if (clientSecret === null) return client; // authorize endpoint: look-up only

      const method = client.tokenEndpointAuthMethod;
      if (clientSecret === undefined || clientSecret === '') {
        // Only a public client goes without credentials; a private_key_jwt client authenticates
        // through holdToClientAssertion, never here.
        if (method !== 'none') return null;
      } else if (!SECRET_METHODS.has(method) || !isAcceptedSecret(record, clientSecret, registration.now())) {
        // A secret authenticates only a client that registered a secret method (RFC 7591 §2): never
        // a public client, nor a private_key_jwt one, whatever secret it may once have held.
        return null;
      }
      noteClientUse(registration, record);
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

/**
 * Fire and forget: the store coalesces these writes off the hot path. A client resolved from its
 * Client ID Metadata Document (the `metadata_document` tier) is not in the store: nothing to record.
 */
function noteClientUse(registration: Pick<Registration, 'store' | 'now'>, record: ClientRecord): void {
  if (record.registeredVia === 'metadata_document') return;
  registration.store.recordClientUse(record.clientId, registration.now()).catch(() => {});
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
 * A request that authenticates with a JWT client assertion (method `private_key_jwt`) needs
 * `holdToClientAssertion` (below) instead: here its client would find no credential and be refused.
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

/** What `holdToClientAssertion` needs of the registration endpoint. */
export type ClientAssertionRegistration = Pick<
  Registration,
  'store' | 'now' | 'resolveClient' | 'verifyClientAssertion'
>;

/**
 * The model for one token (or revocation, introspection) request whose client authenticated with
 * a JWT client assertion (`private_key_jwt`, RFC 7523 §2.2): getClient(id, undefined) answers the
 * client only once `registration.verifyClientAssertion` accepted the assertion for it, and any
 * refusal (bad signature, wrong `aud`, replayed `jti`, a client that registered another method)
 * is the library's InvalidClientError with status 401 and the reason as its description (RFC
 * 7521 §4.2.1). The client is resolved like any other (`registration.resolveClient`), so a Client
 * ID Metadata Document's keys work too. The rules themselves live in the library's protocol code;
 * this wrapper only connects them to @node-oauth/oauth2-server.
 *
 * @node-oauth/oauth2-server knows nothing of assertions: it reads the client_id from the body (an
 * assertion may omit it, so set it from the credentials) and, for grants that require client
 * authentication (client_credentials by default), wants a secret unless told otherwise for this
 * request. The assertion is that authentication, so the request's options say the grant needs
 * none, which is safe because this model refuses the client without a verified assertion:
 *
 *   const credentials = readClientCredentials({ authorization: req.headers.authorization, body: req.body });
 *   if (credentials.kind === 'invalid') return answer(400, 'invalid_request', credentials.description);
 *   if (credentials.kind === 'credentials' && credentials.method === 'private_key_jwt') {
 *     const body = { ...req.body, client_id: credentials.clientId };
 *     const options = {
 *       model: holdToClientAssertion(model, registration, credentials),
 *       requireClientAuthentication: { [body.grant_type]: false },
 *     };
 *     await oauth.token(new OAuth2Server.Request({ ...req, body }), response, options as OAuth2Server.TokenOptions);
 *   }
 *
 * The assertion is verified once per wrapper: its `jti` is single use, so build one wrapper per
 * request. getClient(id, null) (a look-up) passes through to the model. The client returned is the
 * model's own look-up, so a model built from `oauth2ServerClients` answers the same client shape
 * as for any other method.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 * @see https://www.rfc-editor.org/rfc/rfc7521#section-4.2.1
 */
export function holdToClientAssertion<
  Model extends { getClient(clientId: string, clientSecret?: string | null): Promise<unknown> },
>(
  model: Model,
  registration: ClientAssertionRegistration,
  credentials: { readonly clientId: string; readonly clientAssertion: string },
): Model {
  let verified: Promise<unknown> | undefined;
  const authenticate = async (clientId: string): Promise<unknown> => {
    const record = await registration.resolveClient(clientId);
    if (!record) return null;
    const verdict = await registration.verifyClientAssertion(credentials.clientAssertion, record);
    if (!verdict.ok) throw new OAuth2Server.InvalidClientError(verdict.description, { code: 401 });
    const client = await model.getClient(clientId, null);
    if (client) noteClientUse(registration, record);
    return client;
  };
  const getClient = async (clientId: string, clientSecret?: string | null) => {
    if (clientSecret === null) return model.getClient(clientId, null); // a look-up, nobody authenticates
    // The assertion authenticates the client it names, alone, and no other credential comes with it.
    if (clientId !== credentials.clientId || (clientSecret !== undefined && clientSecret !== '')) return null;
    verified ??= authenticate(clientId);
    return verified;
  };
  return Object.create(model, { getClient: { value: getClient, enumerable: true } }) as Model;
}

/**
 * The model for one token request whose client authenticated with a Client Attestation and its
 * PoP (`attest_jwt_client_auth`, draft-ietf-oauth-attestation-based-client-auth-10 §5.1), already
 * verified by the host (`ClientAttestationVerifier.verify`, with the client's registered method
 * checked): getClient(id, undefined) answers that client alone, and no other credential may come
 * with it (RFC 6749 §2.3). As with `holdToClientAssertion`, the request's options must say the
 * grant needs no secret: the verified attestation is the client's authentication.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-attestation-based-client-auth-10#section-7.5
 */
export function holdToAttestedClient<
  Model extends { getClient(clientId: string, clientSecret?: string | null): Promise<unknown> },
>(model: Model, registration: Pick<Registration, 'store' | 'now' | 'resolveClient'>, attested: ClientRecord): Model {
  const getClient = async (clientId: string, clientSecret?: string | null) => {
    if (clientSecret === null) return model.getClient(clientId, null); // a look-up, nobody authenticates
    if (clientId !== attested.clientId || (clientSecret !== undefined && clientSecret !== '')) return null;
    const client = await model.getClient(clientId, null);
    if (client) noteClientUse(registration, attested);
    return client;
  };
  return Object.create(model, { getClient: { value: getClient, enumerable: true } }) as Model;
}

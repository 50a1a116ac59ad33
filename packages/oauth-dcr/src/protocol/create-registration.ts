import type { RegistrationOptions } from '../core/options.js';
import type { ClientRecord, ClientStore, RegistrationVia } from '../store/types.js';
import { createPolicy, type Policy } from './policy.js';
import { isDocumentClientId } from '../cimd/client-id-url.js';
import { emitEvent } from './events.js';
import { initialAccessTokenAdmin, type InitialAccessTokenAdmin } from './initial-access-tokens.js';
import { registrationServerMetadata, type RegistrationServerMetadata } from './server-metadata.js';
import type { RawRequest } from '../core/request.js';
import { toWebResponse, type HttpResult } from '../core/response.js';
import { dispatch } from './routes.js';
import type { ClientAssertionVerification } from './client-assertion.js';
import type { AuthenticationLimits } from '../limits/authentication-limits.js';
import type { ClientOperator } from './client-operator.js';
import { pruneAuditEvents, reapIdleClients, type ReapOptions, type ReapReport } from './idle-reaper.js';
import { validateRegistration, type ValidateOptions, type ValidationResult } from './dry-run.js';

/**
 * A registration endpoint: call it with a Web `Request` and get a `Response`. That is all a
 * Web-standard runtime (Hono, Bun, Deno, Workers) needs; the Express and node:http adapters use
 * `handleRaw` to skip building Web objects.
 *
 * It answers registration (POST, RFC 7591) and, below the same path, reading, updating and
 * deleting a registered client with its registration access token (RFC 7592).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 * @see https://www.rfc-editor.org/rfc/rfc7592#section-2
 */
export interface Registration {
  (request: Request): Promise<Response>;
  /** The same endpoint for adapters that already hold the request's parts. */
  handleRaw(request: RawRequest): Promise<HttpResult>;
  /** The client store the endpoint was created with (the `store` option), for the host's own look-ups. */
  readonly store: ClientStore;
  /** Path of the registration endpoint below the issuer, without a trailing slash (`/` at the root). */
  readonly registrationPath: string;
  /** The endpoint's clock in epoch seconds (the `now` option), so hosts judge secret expiry alike. */
  now(): number;
  /**
   * The client a `client_id` names, wherever it is looked up (authorization, token, revocation,
   * introspection, consent): a stored client first (`unknown` while an operator has disabled it), then, when Client ID Metadata Documents are
   * on and the id is an https URL, the document it points to, fetched and validated by the same
   * policy as a registration. `refused` says why a document could not be used, for an error page.
   *
   * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-01#section-4
   */
  lookupClient(clientId: string): Promise<ClientLookup>;
  /** `lookupClient`, as the client or null: for hosts that only need to know whether it resolves. */
  resolveClient(clientId: string): Promise<ClientRecord | null>;
  /**
   * The grants and scopes a client that got in through `registeredVia` may use, as the policy
   * says now (narrowing it later holds clients registered earlier too). Without a tier: the
   * deployment-wide ones. `scopesSupported` undefined means any scope.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
   */
  clientLimits(registeredVia?: RegistrationVia): ClientLimits;
  /**
   * RFC 8414 members this endpoint is responsible for, with the values it really accepts. Merge
   * them into the authorization server's metadata document.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
   */
  serverMetadata(): RegistrationServerMetadata;
  /**
   * Creates, lists and revokes the initial access tokens that admit clients to the endpoint when
   * open registration is off.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
   */
  readonly initialAccessTokens: InitialAccessTokenAdmin;
  /**
   * Verifies a `private_key_jwt` client assertion (RFC 7523 §2.2) as `client`'s authentication at
   * the token endpoint: signed with the client's key, `iss` = `sub` = its client_id, `aud` this
   * server's issuer alone (RFC 10070), short-lived, its `jti` used once. A refusal is an
   * `invalid_client` (RFC 7521 §4.2.1); the description says why. See the `clientAssertions` option.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
   */
  verifyClientAssertion(assertion: string, client: ClientRecord): Promise<ClientAssertionVerification>;
  /**
   * The client's address: the socket's peer, or what a trusted proxy forwarded in X-Forwarded-For
   * (the `trustProxy` option). Hosts use it for their own endpoints, so every limit and audit
   * event sees the same address.
   */
  clientAddress(peer: string | undefined, forwardedFor: string | undefined): string | undefined;
  /** Limits on failed client authentication, for the host's token, revocation and introspection endpoints. */
  readonly authenticationLimits: AuthenticationLimits;
  /** Operator actions on clients (create, disable, enable, delete), each an audit event. */
  readonly operator: ClientOperator;
  /**
   * Runs the idle-client reaper once over every tier with a rule (the `idleClients` option):
   * deletes in batches (default 500), yielding to the event loop between them, and emits one
   * `client.reaped` event per batch (detail: tier, reason, count, client_ids). With `dryRun`, only
   * reports what it would delete.
   */
  reapIdleClients(options?: ReapOptions): Promise<ReapReport>;
  /** Deletes audit events older than the `auditRetention` option; resolves how many. */
  pruneAuditEvents(): Promise<number>;
  /**
   * A dry run of registration (RFC 7591 §3.1): the metadata (an object, or the JSON body as a
   * string) goes through the endpoint's own sequence (JSON reading, software statement, the
   * tier's ceilings, the metadata rules, the `validateMetadata` hook) and resolves what a
   * registration would answer and store, with each member the server adds, drops or narrows and
   * why; or the error it would answer (RFC 7591 §3.2.2) with an RFC 6901 pointer to the member
   * at fault. Nothing is stored, counted, spent, drawn or emitted, and the `createClient` hook
   * does not run. An unknown `tier` throws a TypeError.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2
   */
  validate(metadata: unknown, options?: ValidateOptions): Promise<ValidationResult>;
}

/** How a `client_id` resolved. */
export type ClientLookup =
  | { kind: 'found'; client: ClientRecord }
  | { kind: 'unknown' }
  /** A Client ID Metadata Document that cannot be used; never cached (CIMD §4.4). */
  | { kind: 'refused'; error: 'invalid_client' | 'invalid_client_metadata'; description: string };

/** The ceilings a client is held to at the authorization and token endpoints. */
export interface ClientLimits {
  /** Grant types the client may use, whatever it registered (RFC 7591 §2 `grant_types`). */
  readonly allowedGrantTypes: ReadonlySet<string>;
  /** Scope values the client may be granted; undefined means any scope. */
  readonly scopesSupported?: ReadonlySet<string>;
}

/**
 * Creates the registration endpoint from the deployment's options. The options are checked here,
 * once: bad configuration throws a TypeError at start-up, never a surprise on a request.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 * @see https://www.rfc-editor.org/rfc/rfc7592#section-2
 */
export function createRegistration(options: RegistrationOptions): Registration {
  const policy = createPolicy(options);
  const deploymentLimits: ClientLimits = {
    allowedGrantTypes: policy.allowedGrantTypes,
    scopesSupported: policy.scopesSupported,
  };
  const handleRaw = (request: RawRequest) => dispatch(policy, request);
  const lookupClient = (clientId: string): Promise<ClientLookup> => resolveClientId(policy, clientId);
  const handler = async (request: Request): Promise<Response> =>
    toWebResponse(await handleRaw(fromWebRequest(request)));
  return Object.assign(handler, {
    handleRaw,
    store: policy.store,
    registrationPath: policy.registrationPath,
    now: policy.now,
    lookupClient,
    resolveClient: async (clientId: string) => {
      const lookup = await lookupClient(clientId);
      return lookup.kind === 'found' ? lookup.client : null;
    },
    // The resolved tiers are already merged with the deployment-wide ceilings: no allocation here.
    clientLimits: (registeredVia?: RegistrationVia): ClientLimits =>
      (registeredVia === undefined ? undefined : policy.tiers[registeredVia]) ?? deploymentLimits,
    serverMetadata: () => registrationServerMetadata(policy),
    initialAccessTokens: initialAccessTokenAdmin(policy.store, policy.now),
    verifyClientAssertion: (assertion: string, client: ClientRecord) =>
      policy.clientAssertions.verify(assertion, client),
    clientAddress: policy.limits.clientAddress,
    authenticationLimits: policy.limits.authentication,
    operator: policy.operator,
    reapIdleClients: (options?: ReapOptions): Promise<ReapReport> => reapIdleClients(policy, options),
    pruneAuditEvents: () => pruneAuditEvents(policy),
    validate: (metadata: unknown, options?: ValidateOptions) => validateRegistration(policy, metadata, options),
  });
}

/**
 * A stored client first, so that a URL an operator registered behaves like any registered client
 * (CIMD §6.10); then, when documents are on and the id is an https URL, its document (CIMD §4).
 * A refused document is reported as an event, as a refused registration is.
 */
async function resolveClientId(policy: Policy, clientId: string): Promise<ClientLookup> {
  const stored = await policy.store.findClient(clientId);
  // A disabled client is no client at all to the authorization, token, revocation and
  // introspection endpoints, until an operator enables it again. Its id is not looked up as a
  // metadata document either: the operator disabled that client_id.
  if (stored) return stored.disabledAt === undefined ? { kind: 'found', client: stored } : { kind: 'unknown' };
  if (policy.clientDocuments === undefined || !isDocumentClientId(clientId)) return { kind: 'unknown' };
  const lookup = await policy.clientDocuments.resolve(clientId);
  if (lookup.kind === 'refused') {
    emitEvent(policy, {
      type: 'registration.rejected',
      clientId,
      detail: { via: 'metadata_document', error: lookup.error, error_description: lookup.description },
    });
  }
  return lookup;
}

function fromWebRequest(request: Request): RawRequest {
  return {
    method: request.method,
    url: request.url,
    header: (name) => request.headers.get(name) ?? undefined,
    body: request.body as AsyncIterable<Uint8Array> | null,
  };
}

import {
  REGISTRATION_TIERS,
  type ClientStore,
  type ClientRecord,
  type AuditEvent,
  type RegistrationVia,
} from '../store/types.js';
import type { ClientMetadata } from './client-metadata.js';
import type { SafeFetchOptions } from '../net/safe-fetch.js';
import {
  resolveDocumentOptions,
  type ClientIdMetadataDocumentOptions,
  type ResolvedDocumentOptions,
} from './document-options.js';
import type { ClientAssertionOptions } from './assertion-options.js';
import type { ClientAttestationOptions } from './attestation-options.js';
import type { SoftwareStatementOptions } from './statement-options.js';
import type { RegistrationContext, RequestContext } from './hook-context.js';
import { resolveLimitOptions, type LimitOptions, type ResolvedLimitOptions } from './limit-options.js';
import { resolveLifecycleOptions, type LifecycleOptions, type ResolvedLifecycleOptions } from './lifecycle-options.js';

// Option groups kept in their own modules, exported from here as one options surface.
export type { ClientAssertionOptions, ClientAssertionReplayGuard } from './assertion-options.js';
export type { SoftwareStatementOptions, TrustedStatementIssuer } from './statement-options.js';
export type { RequestContext, RegistrationContext } from './hook-context.js';
export type {
  ClientAttestationOptions,
  TrustedAttester,
  AttestationChallengeOptions,
} from './attestation-options.js';

/*
 * The deployment's options, checked once and resolved to plain data. Nothing here builds a
 * service: the statement verifier and the document cache are built where the endpoint is created
 * (protocol/policy.ts), so this floor stays free of network code.
 */

/**
 * Everything a deployment can set. `createRegistration` checks it once at start-up: bad
 * configuration is a TypeError then, never a surprise on a request. The README maps each option to
 * the django-oauth-toolkit-dcr setting it corresponds to.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 */
export interface RegistrationOptions extends LimitOptions, LifecycleOptions {
  /** Where registered clients, initial access tokens and audit events are kept. Required. */
  store: ClientStore;
  /**
   * Public base URL of the authorization server (RFC 8414 `issuer`). Used to build absolute URIs.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
   */
  issuer?: string;
  /** Path of the registration endpoint, below the issuer. Default `/register`. */
  registrationPath?: string;
  /**
   * Grant types clients may register; a request for any other is refused. Default
   * `['authorization_code', 'refresh_token']`: no implicit or password grant (RFC 9700).
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
   * @see https://www.rfc-editor.org/rfc/rfc9700#section-2.1.2
   */
  allowedGrantTypes?: string[];
  /**
   * Refuse plain http redirect URIs, except on the loopback interface, which native apps use
   * (RFC 8252 §7.3). Turn off only for development. Default true.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
   */
  requireHttpsRedirectUris?: boolean;
  /**
   * When set, only redirect URIs with these schemes may be registered. Default: https, http on
   * loopback, and any private-use scheme (RFC 8252 §7.1) for native clients.
   *
   * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.1
   */
  allowedRedirectUriSchemes?: string[];
  /**
   * Seconds until an issued client secret expires (`client_secret_expires_at`); 0 means never.
   * Default 0.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1
   */
  clientSecretTtl?: number;
  /**
   * Token endpoint auth methods clients may register. Default none, client_secret_basic,
   * client_secret_post; private_key_jwt only when the token endpoint verifies client assertions.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
   */
  tokenEndpointAuthMethods?: string[];
  /**
   * Scopes clients may register; omitted means any well-formed scope. Others are dropped and the
   * result echoed.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
   */
  scopesSupported?: string[];
  /** Scope given to a client that asks for none. */
  defaultScope?: string;
  /** Request body cap in bytes; a larger body is refused with 413. Default 64 KiB. */
  maxBodyBytes?: number;
  /** CORS: `'*'` (default), a list of allowed origins, or false to send no CORS headers. */
  cors?: '*' | string[] | false;
  /**
   * Your own metadata rules. Runs after the built-in rules; may return replaced metadata. A
   * RegistrationError thrown here reaches the client as is. Also runs for Client ID Metadata
   * Documents, with `ctx.registeredVia` 'metadata_document' and `ctx.url` the document's URL; a
   * RegistrationError then refuses the document (invalid_client_metadata).
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2
   */
  validateMetadata?: (
    metadata: ClientMetadata,
    ctx: RegistrationContext,
  ) => ClientMetadata | void | Promise<ClientMetadata | void>;
  /**
   * Your own say over the client about to be stored: receives the record and may return a
   * replacement (e.g. with a client_id of your own making).
   */
  createClient?: (draft: ClientRecord, ctx: RegistrationContext) => ClientRecord | void | Promise<ClientRecord | void>;
  /** One call per outcome: registrations, rejections, reads, updates, deletes. Must not throw. */
  onEvent?: (event: AuditEvent) => void;
  /** Also persist audit events through the store. Default false. */
  persistAuditEvents?: boolean;
  /** Unexpected (non-registration) errors; the client gets a generic 500. Default console.error. */
  onError?: (error: unknown) => void;
  /**
   * Open registration: anyone may register without a token. Off, a client needs an initial
   * access token, a signed-in principal (`authenticate`) or a trusted software statement. Default true.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
   */
  openRegistration?: boolean;
  /**
   * Authenticated registration: return the principal (a stable id) for a request made by a
   * signed-in user or a service, or null. Runs before initial access tokens are looked at.
   */
  authenticate?: (ctx: RequestContext) => string | null | undefined | Promise<string | null | undefined>;
  /** Per-tier ceilings: how a client got in decides which grants and scopes it may have. */
  tiers?: Partial<Record<RegistrationVia, TierOptions>>;
  /**
   * RFC 7592: issue a new registration access token on every update. Default true.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7592#section-2.2
   * @see https://www.rfc-editor.org/rfc/rfc7592#section-3
   */
  rotateRegistrationAccessToken?: boolean;
  /** Seconds the previous client secret stays valid after a renewal. Default 0 (none). */
  secretRenewalOverlap?: number;
  /**
   * RFC 7591 §2.3: trusted software statement issuers. Without this, every well-formed statement
   * is `unapproved_software_statement` and a malformed one `invalid_software_statement` (§3.2.2).
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-2.3
   */
  softwareStatements?: SoftwareStatementOptions;
  /**
   * Options for every outbound fetch (sector_identifier_uri, statement issuers' jwks_uri), all
   * through safe-fetch. Only tests should loosen the address rules here.
   *
   * @see https://openid.net/specs/openid-connect-registration-1_0.html#SectorIdentifierValidation
   */
  outboundFetch?: SafeFetchOptions;
  /**
   * Client ID Metadata Documents: a `client_id` that is an https URL names the client's own
   * metadata document, fetched through safe-fetch and validated like a registration. Off by default.
   *
   * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-01
   */
  clientIdMetadataDocuments?: ClientIdMetadataDocumentOptions;
  /** Clock in epoch seconds; for tests. */
  now?: () => number;
  /**
   * How `private_key_jwt` client assertions (RFC 7523 §2.2) are verified at the token endpoint;
   * used once `tokenEndpointAuthMethods` enables private_key_jwt.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
   */
  clientAssertions?: ClientAssertionOptions;
  /**
   * OAuth 2.0 Attestation-Based Client Authentication (draft-ietf-oauth-attestation-based-client-auth-10):
   * trusted Client Attesters, PoP freshness, challenges. Experimental, off by default; set it
   * together with `attest_jwt_client_auth` in `tokenEndpointAuthMethods`. An attestation sent to
   * /register from an attester trusted for the software admits the client in the `attested` tier.
   */
  clientAttestation?: ClientAttestationOptions;
}

/**
 * The ceilings for clients admitted one way (one `RegistrationVia` tier). What is left out falls
 * back to the deployment-wide option of the same name.
 */
export interface TierOptions {
  /** Grant types clients of this tier may register and use. */
  allowedGrantTypes?: string[];
  /** Scopes clients of this tier may register and be granted. */
  scopesSupported?: string[];
}

/**
 * RegistrationOptions after `resolveOptions`: defaults applied, lists turned into sets, every
 * value checked. Plain data (and the host's own hooks); the services built from it live in
 * protocol/policy.ts.
 */
export interface ResolvedOptions extends ResolvedLimitOptions, ResolvedLifecycleOptions {
  store: ClientStore;
  issuer?: string;
  registrationPath: string;
  allowedGrantTypes: ReadonlySet<string>;
  requireHttpsRedirectUris: boolean;
  allowedRedirectUriSchemes?: ReadonlySet<string>;
  clientSecretTtl: number;
  tokenEndpointAuthMethods: ReadonlySet<string>;
  scopesSupported?: ReadonlySet<string>;
  defaultScope?: string;
  maxBodyBytes: number;
  cors: '*' | ReadonlySet<string> | false;
  validateMetadata?: RegistrationOptions['validateMetadata'];
  createClient?: RegistrationOptions['createClient'];
  onEvent?: (event: AuditEvent) => void;
  persistAuditEvents: boolean;
  onError: (error: unknown) => void;
  openRegistration: boolean;
  authenticate?: RegistrationOptions['authenticate'];
  /** Grant and scope ceilings for each tier, already merged with the deployment-wide ones. */
  tiers: Readonly<Record<RegistrationVia, Tier>>;
  rotateRegistrationAccessToken: boolean;
  secretRenewalOverlap: number;
  /** Trusted statement issuers as configured; protocol/policy.ts builds the verifier from them. */
  softwareStatements: SoftwareStatementOptions;
  /** Options for every fetch made on a client's behalf. */
  outboundFetch: SafeFetchOptions;
  /** Client ID Metadata Documents, checked; protocol/policy.ts builds the resolver from them. */
  clientIdMetadataDocuments: ResolvedDocumentOptions;
  now: () => number;
}

export interface Tier {
  allowedGrantTypes: ReadonlySet<string>;
  scopesSupported?: ReadonlySet<string>;
}

const TIER_NAMES: readonly RegistrationVia[] = REGISTRATION_TIERS;

/**
 * The grant types clients may register by default (`allowedGrantTypes`): authorization_code and
 * refresh_token. RFC 9700 §2.1.2 and §2.4: no implicit and no password grant unless a deployment
 * opts in.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-2.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-2.4
 */
export const DEFAULT_ALLOWED_GRANT_TYPES = ['authorization_code', 'refresh_token'];
/**
 * Methods a deployment may enable. private_key_jwt is opt-in: the token endpoint must verify client
 * assertions; attest_jwt_client_auth (draft-ietf-oauth-attestation-based-client-auth-10 §13.6) too,
 * with the `clientAttestation` option.
 */
export const SUPPORTED_AUTH_METHODS = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'attest_jwt_client_auth',
] as const;
export const DEFAULT_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'];
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

function fail(message: string): never {
  throw new TypeError(`oauth-dcr: ${message}`);
}

function stringList(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    fail(`${name} must be an array of non-empty strings`);
  }
  return value as string[];
}

export function resolveOptions(options: RegistrationOptions): ResolvedOptions {
  if (!options || typeof options !== 'object') fail('options are required');
  const { store } = options;
  if (!store || typeof store.insertClient !== 'function') fail('options.store must be a ClientStore');

  let issuer: string | undefined;
  if (options.issuer !== undefined) {
    let url: URL;
    try {
      url = new URL(options.issuer);
    } catch {
      fail(`issuer must be an absolute URL, got ${JSON.stringify(options.issuer)}`);
    }
    // RFC 8414 §2: the issuer has no query or fragment.
    if (url.search || url.hash) fail('issuer must not have a query or fragment');
    issuer = options.issuer.replace(/\/+$/, '');
  }

  const registrationPath = options.registrationPath ?? '/register';
  if (!registrationPath.startsWith('/')) fail('registrationPath must start with "/"');

  const allowedGrantTypes = stringList('allowedGrantTypes', options.allowedGrantTypes ?? DEFAULT_ALLOWED_GRANT_TYPES);

  const methods = stringList('tokenEndpointAuthMethods', options.tokenEndpointAuthMethods ?? DEFAULT_AUTH_METHODS);
  for (const m of methods) {
    if (!(SUPPORTED_AUTH_METHODS as readonly string[]).includes(m)) {
      fail(`tokenEndpointAuthMethods: ${m} is not supported (supported: ${SUPPORTED_AUTH_METHODS.join(', ')})`);
    }
  }

  // The attestation method and its trust configuration come together: neither means anything alone.
  if (methods.includes('attest_jwt_client_auth') !== (options.clientAttestation !== undefined)) {
    fail('attest_jwt_client_auth in tokenEndpointAuthMethods and the clientAttestation option go together');
  }

  const ttl = options.clientSecretTtl ?? 0;
  if (!Number.isInteger(ttl) || ttl < 0) fail('clientSecretTtl must be a whole number of seconds, 0 for never');

  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024) fail('maxBodyBytes must be an integer >= 1024');

  let cors: ResolvedOptions['cors'] = '*';
  if (options.cors === false) cors = false;
  else if (Array.isArray(options.cors)) cors = new Set(stringList('cors', options.cors));
  else if (options.cors !== undefined && options.cors !== '*') fail("cors must be '*', a list of origins, or false");

  const overlap = options.secretRenewalOverlap ?? 0;
  if (!Number.isInteger(overlap) || overlap < 0) fail('secretRenewalOverlap must be a whole number of seconds');

  const globalScopes = options.scopesSupported
    ? new Set(stringList('scopesSupported', options.scopesSupported))
    : undefined;
  const tiers = {} as Record<RegistrationVia, Tier>;
  for (const name of TIER_NAMES) {
    const tier = options.tiers?.[name];
    tiers[name] = {
      allowedGrantTypes: new Set(
        tier?.allowedGrantTypes
          ? stringList(`tiers.${name}.allowedGrantTypes`, tier.allowedGrantTypes)
          : allowedGrantTypes,
      ),
      scopesSupported: tier?.scopesSupported
        ? new Set(stringList(`tiers.${name}.scopesSupported`, tier.scopesSupported))
        : globalScopes,
    };
  }
  for (const name of Object.keys(options.tiers ?? {})) {
    if (!TIER_NAMES.includes(name as RegistrationVia))
      fail(`tiers: unknown tier ${name} (known: ${TIER_NAMES.join(', ')})`);
  }
  if (options.authenticate !== undefined && typeof options.authenticate !== 'function')
    fail('authenticate must be a function');

  const schemes = options.allowedRedirectUriSchemes;
  return {
    store,
    issuer,
    registrationPath: registrationPath.replace(/\/+$/, '') || '/',
    allowedGrantTypes: new Set(allowedGrantTypes),
    requireHttpsRedirectUris: options.requireHttpsRedirectUris ?? true,
    allowedRedirectUriSchemes:
      schemes === undefined
        ? undefined
        : new Set(stringList('allowedRedirectUriSchemes', schemes).map((s) => s.toLowerCase())),
    clientSecretTtl: ttl,
    tokenEndpointAuthMethods: new Set(methods),
    scopesSupported: globalScopes,
    defaultScope: options.defaultScope,
    maxBodyBytes,
    cors,
    validateMetadata: options.validateMetadata,
    createClient: options.createClient,
    onEvent: options.onEvent,
    persistAuditEvents: options.persistAuditEvents ?? false,
    onError: options.onError ?? ((error) => console.error('oauth-dcr: unexpected error', error)),
    openRegistration: options.openRegistration ?? true,
    authenticate: options.authenticate,
    tiers,
    rotateRegistrationAccessToken: options.rotateRegistrationAccessToken ?? true,
    secretRenewalOverlap: overlap,
    softwareStatements: options.softwareStatements ?? { issuers: [] },
    outboundFetch: options.outboundFetch ?? {},
    clientIdMetadataDocuments: resolveDocumentOptions(options.clientIdMetadataDocuments),
    now: options.now ?? (() => Math.floor(Date.now() / 1000)),
    ...resolveLimitOptions(options),
    ...resolveLifecycleOptions(options),
  };
}

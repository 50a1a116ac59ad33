import type { JSONWebKeySet } from 'jose';
import type { ClientStore, ClientRecord, AuditEvent, RegistrationVia } from '../store/types.js';
import type { ClientMetadata } from './client-metadata.js';
import type { SafeFetchOptions } from '../net/safe-fetch.js';

/*
 * The deployment's options, checked once and resolved to plain data. Nothing here builds a
 * service: the statement verifier and the document cache are built where the endpoint is created
 * (protocol/policy.ts), so this floor stays free of network code.
 */

/**
 * Everything a deployment can set, named after django-oauth-toolkit-dcr's settings where it has
 * one. `createRegistration` checks it once at start-up: bad configuration is a TypeError then, never a
 * surprise on a request.
 */
export interface RegistrationOptions {
  store: ClientStore;
  /** Public base URL of the authorization server (RFC 8414 `issuer`). Used to build absolute URIs. */
  issuer?: string;
  /** Path of the registration endpoint, below the issuer. Default `/register`. */
  registrationPath?: string;
  /** Seed: ALLOWED_GRANT_TYPES. Default `['authorization_code', 'refresh_token']` (RFC 9700). */
  allowedGrantTypes?: string[];
  /** Seed: REQUIRE_HTTPS_REDIRECT_URIS. Loopback http stays allowed (RFC 8252 §7.3). Default true. */
  requireHttpsRedirectUris?: boolean;
  /**
   * DOT: ALLOWED_REDIRECT_URI_SCHEMES. When set, only these schemes may be registered. Default:
   * https, http on loopback, and any private-use scheme (RFC 8252 §7.1) for native clients.
   */
  allowedRedirectUriSchemes?: string[];
  /** Seconds until an issued client secret expires; 0 means never. Default 0. */
  clientSecretTtl?: number;
  /** Token endpoint auth methods clients may register. Default none, client_secret_basic, client_secret_post. */
  tokenEndpointAuthMethods?: string[];
  /** Scopes clients may register; omitted means any well-formed scope. Others are dropped and the result echoed. */
  scopesSupported?: string[];
  /** Scope given to a client that asks for none. */
  defaultScope?: string;
  /** Request body cap in bytes. Default 64 KiB. */
  maxBodyBytes?: number;
  /** CORS: `'*'` (default), a list of allowed origins, or false to send no CORS headers. */
  cors?: '*' | string[] | false;
  /** Seed: `_validate_client_metadata`. Runs after the built-in rules; may return replaced metadata. */
  validateMetadata?: (
    metadata: ClientMetadata,
    ctx: RegistrationContext,
  ) => ClientMetadata | void | Promise<ClientMetadata | void>;
  /** Seed: `_create_application`. Receives the record about to be stored; may return a replacement. */
  createClient?: (draft: ClientRecord, ctx: RegistrationContext) => ClientRecord | void | Promise<ClientRecord | void>;
  /** One call per outcome: registrations, rejections, reads, updates, deletes. Must not throw. */
  onEvent?: (event: AuditEvent) => void;
  /** Also persist audit events through the store. Default false. */
  persistAuditEvents?: boolean;
  /** Unexpected (non-registration) errors; the client gets a generic 500. Default console.error. */
  onError?: (error: unknown) => void;
  /** Open registration: anyone may register without a token. Default true. */
  openRegistration?: boolean;
  /**
   * Authenticated registration: return the principal (a stable id) for a request made by a
   * signed-in user or a service, or null. Runs before initial access tokens are looked at.
   */
  authenticate?: (ctx: RequestContext) => string | null | undefined | Promise<string | null | undefined>;
  /** Per-tier ceilings: how a client got in decides which grants and scopes it may have. */
  tiers?: Partial<Record<RegistrationVia, TierOptions>>;
  /** RFC 7592: issue a new registration access token on every update. Default true. */
  rotateRegistrationAccessToken?: boolean;
  /** Seconds the previous client secret stays valid after a renewal. Default 0 (none). */
  secretRenewalOverlap?: number;
  /**
   * RFC 7591 §2.3: trusted software statement issuers. Without this, every well-formed statement
   * is `unapproved_software_statement` and a malformed one `invalid_software_statement` (§3.2.2).
   */
  softwareStatements?: SoftwareStatementOptions;
  /**
   * Options for every outbound fetch (sector_identifier_uri, statement issuers' jwks_uri), all
   * through safe-fetch. Only tests should loosen the address rules here.
   */
  outboundFetch?: SafeFetchOptions;
  /** Clock in epoch seconds; for tests. */
  now?: () => number;
}

/**
 * A software statement issuer this deployment trusts (RFC 7591 §2.3), with its keys given inline
 * or fetched from `jwksUri` through safe-fetch.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2.3
 */
export interface TrustedStatementIssuer {
  /** The statement's `iss`. */
  issuer: string;
  jwks?: JSONWebKeySet;
  jwksUri?: string;
  /** Accepted signing algorithms. Default: the asymmetric JWS algorithms. */
  algorithms?: string[];
}

/** @see https://www.rfc-editor.org/rfc/rfc7591#section-3.1.1 */
export interface SoftwareStatementOptions {
  issuers: TrustedStatementIssuer[];
  /** Refuse registrations that carry no statement. Default false. */
  required?: boolean;
}

export interface TierOptions {
  allowedGrantTypes?: string[];
  scopesSupported?: string[];
}

/** The request as hooks see it, whichever adapter it came through. */
export interface RequestContext {
  method: string;
  url: string;
  remoteAddress?: string;
  header(name: string): string | undefined;
}

/** What a hook learns about the registration in progress. */
export interface RegistrationContext extends RequestContext {
  registeredVia: RegistrationVia;
  registeredBy?: string;
}

/**
 * RegistrationOptions after `resolveOptions`: defaults applied, lists turned into sets, every
 * value checked. Plain data (and the host's own hooks); the services built from it live in
 * protocol/policy.ts.
 */
export interface ResolvedOptions {
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
  now: () => number;
}

export interface Tier {
  allowedGrantTypes: ReadonlySet<string>;
  scopesSupported?: ReadonlySet<string>;
}

const TIER_NAMES: RegistrationVia[] = [
  'anonymous',
  'initial_access_token',
  'authenticated',
  'software_statement',
  'metadata_document',
  'admin',
];

/** RFC 9700 §2.1.2 and §2.4: no implicit and no password grant unless a deployment opts in. */
export const DEFAULT_ALLOWED_GRANT_TYPES = ['authorization_code', 'refresh_token'];
/** Methods a deployment may enable. private_key_jwt is opt-in: the token endpoint must verify client assertions. */
export const SUPPORTED_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
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
    now: options.now ?? (() => Math.floor(Date.now() / 1000)),
  };
}

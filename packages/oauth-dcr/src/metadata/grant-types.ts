import { invalidMetadata } from '../core/errors.js';

export const GRANT = {
  authorizationCode: 'authorization_code',
  implicit: 'implicit',
  password: 'password',
  clientCredentials: 'client_credentials',
  refreshToken: 'refresh_token',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  saml2Bearer: 'urn:ietf:params:oauth:grant-type:saml2-bearer',
} as const;

/**
 * The grant types RFC 7591 §2 names. A deployment must opt in to each one it wants beyond the
 * defaults; asking for one that is not enabled is an error with the seed's wording. Any other
 * grant (an extension such as device_code, which VS Code sends) is dropped silently when the
 * server does not enable it, and the response shows what was registered (RFC 7591 §3.2.1).
 */
const KNOWN_GRANTS: ReadonlySet<string> = new Set(Object.values(GRANT));

/**
 * RFC 7591 §2.1: the grant type each response type needs. `id_token` comes from OpenID Connect
 * (OAuth 2.0 Multiple Response Type Encoding Practices): alone or with `token` it is implicit,
 * with `code` it is hybrid and needs both.
 */
function grantsForResponseType(responseType: string): string[] {
  const parts = responseType.split(' ');
  const grants: string[] = [];
  if (parts.includes('code')) grants.push(GRANT.authorizationCode);
  if (parts.includes('token') || parts.includes('id_token')) grants.push(GRANT.implicit);
  return grants;
}

const RESPONSE_TYPE_PARTS = new Set(['code', 'token', 'id_token', 'none']);

export interface GrantSelection {
  grantTypes: string[];
  responseTypes: string[];
}

/** How strictly requested values the deployment does not support are treated. */
export interface GrantSelectionMode {
  /**
   * Drop every unsupported grant and response type, refusing only when none is left. For Client
   * ID Metadata Documents, which get no response showing what was kept (open CIMD draft issue
   * #71, as node-oidc-provider does). Otherwise a grant RFC 7591 names but the deployment does
   * not enable is refused with the seed's message.
   */
  dropUnsupported?: boolean;
}

/**
 * Resolves grant_types and response_types together: applies RFC 7591 §2 defaults, enforces the
 * deployment's allowed grants, drops unsupported extension grants, and checks the §2.1
 * consistency table in both directions.
 */
export function resolveGrantAndResponseTypes(
  requestedGrants: string[] | undefined,
  requestedResponseTypes: string[] | undefined,
  allowed: ReadonlySet<string>,
  mode: GrantSelectionMode = {},
): GrantSelection {
  // RFC 7591 §2: grant_types defaults to ["authorization_code"]; when only response_types is
  // given, the grants it implies are the natural default.
  let grants =
    requestedGrants ??
    (requestedResponseTypes
      ? unique(requestedResponseTypes.flatMap(grantsForResponseType))
      : [GRANT.authorizationCode]);

  const kept: string[] = [];
  for (const grant of grants) {
    if (allowed.has(grant)) kept.push(grant);
    else if (KNOWN_GRANTS.has(grant) && !mode.dropUnsupported) {
      throw invalidMetadata(`Grant type '${grant}' is not allowed for dynamic registration`);
    }
    // else: an extension grant this server does not support (or any, in a document); dropped.
  }
  if (kept.length === 0) {
    throw invalidMetadata(
      `None of the requested grant types is supported for dynamic registration (requested: ${grants.join(', ')})`,
    );
  }
  grants = kept;

  let requestedTypes = requestedResponseTypes;
  if (mode.dropUnsupported && requestedTypes !== undefined) {
    // A response type is supported when it is well formed and every grant it needs was kept.
    const supported = requestedTypes.filter(
      (type) => isWellFormedResponseType(type) && grantsForResponseType(type).every((g) => kept.includes(g)),
    );
    if (supported.length === 0 && requestedTypes.length > 0) {
      throw invalidMetadata(
        `None of the requested response types is supported (requested: ${requestedTypes.join(', ')})`,
      );
    }
    requestedTypes = supported;
  }

  for (const type of requestedTypes ?? []) {
    if (!isWellFormedResponseType(type)) {
      throw invalidMetadata(`response_types: '${type}' is not a supported response type`);
    }
  }

  // RFC 7591 §2: response_types defaults to ["code"]; a client without the authorization_code
  // grant (e.g. client_credentials only) uses no authorization endpoint, so it gets none.
  const responseTypes =
    requestedTypes ??
    (grants.includes(GRANT.authorizationCode) ? ['code'] : grants.includes(GRANT.implicit) ? ['token'] : []);

  // RFC 7591 §2.1 table, both ways: every response type needs its grant ...
  for (const type of responseTypes) {
    if (type === 'none') continue;
    for (const needed of grantsForResponseType(type)) {
      if (!grants.includes(needed)) {
        if (!allowed.has(needed)) {
          throw invalidMetadata(
            `Grant type '${needed}' is not allowed for dynamic registration (needed by response type '${type}')`,
          );
        }
        throw invalidMetadata(
          `response_types: '${type}' requires grant type '${needed}' in grant_types (RFC 7591 §2.1)`,
        );
      }
    }
  }
  // ... and every redirect-based grant needs a response type that uses it.
  if (grants.includes(GRANT.authorizationCode) && !responseTypes.some((t) => t.split(' ').includes('code'))) {
    throw invalidMetadata(
      "grant_types: 'authorization_code' requires response type 'code' in response_types (RFC 7591 §2.1)",
    );
  }
  if (grants.includes(GRANT.implicit) && !responseTypes.some((t) => /(^| )(token|id_token)( |$)/.test(t))) {
    throw invalidMetadata(
      "grant_types: 'implicit' requires response type 'token' or 'id_token' in response_types (RFC 7591 §2.1)",
    );
  }
  return { grantTypes: grants, responseTypes };
}

/**
 * RFC 6749 §4.4.2: the client credentials grant "MUST" authenticate the client, and a public
 * client (`token_endpoint_auth_method: "none"`, §2.1) has nothing to authenticate with. Such a
 * client could register the grant but never use it, so it is refused at registration, even where
 * the deployment enables client_credentials.
 */
export function checkGrantsForAuthMethod(grants: readonly string[], authMethod: string): void {
  if (authMethod === 'none' && grants.includes(GRANT.clientCredentials)) {
    throw invalidMetadata(
      "grant_types: 'client_credentials' requires client authentication (RFC 6749 §4.4), so a public client " +
        "(token_endpoint_auth_method 'none') cannot use it; register a confidential client instead",
    );
  }
}

/** Grants that send the user agent to a redirect URI, so redirect_uris is required. */
export function usesRedirects(grants: readonly string[]): boolean {
  return grants.includes(GRANT.authorizationCode) || grants.includes(GRANT.implicit);
}

/** Known parts (`code`, `token`, `id_token`, `none`), each at most once. */
function isWellFormedResponseType(type: string): boolean {
  const parts = type.split(' ');
  return parts.every((p) => RESPONSE_TYPE_PARTS.has(p)) && new Set(parts).size === parts.length;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

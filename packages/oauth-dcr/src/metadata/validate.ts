import { atPointer, invalidMetadata, invalidRedirectUri, jsonPointer, pointAt } from '../core/errors.js';
import { SafeFetchError } from '../net/safe-fetch.js';
import type { ResolvedOptions, Tier } from '../core/options.js';
import type { ClientMetadata } from '../core/client-metadata.js';
import { checkJwkSet, checkKeySource, checkSigningAlgorithm } from './client-keys.js';
import { CLIENT_FIELDS, SERVER_ASSIGNED_FIELDS, type FieldRule } from './fields.js';
import { checkGrantsForAuthMethod, resolveGrantAndResponseTypes, usesRedirects, GRANT } from './grant-types.js';
import { classifyRedirectUri, isNativeRedirectKind, type RedirectUriKind } from './redirect-uris.js';

/**
 * What the metadata rules read from the deployment: resolved options, plus the one service they
 * use (fetching a sector_identifier_uri, OIDC DCR §2), which the endpoint builds and passes in.
 */
export interface MetadataRules
  extends Pick<
    ResolvedOptions,
    'requireHttpsRedirectUris' | 'allowedRedirectUriSchemes' | 'tokenEndpointAuthMethods' | 'defaultScope'
  > {
  fetchJson(url: string): Promise<unknown>;
}

/**
 * Where the metadata comes from. A `registration` (RFC 7591, RFC 7592) gets an answer that shows
 * what was registered. A `metadata_document` (a Client ID Metadata Document) gets none, so
 * unsupported grant and response types are dropped rather than refused, and every URI the user
 * may be sent to must be https (draft-ietf-oauth-client-id-metadata-document-01 §4.1).
 */
export type MetadataSource = 'registration' | 'metadata_document';

/**
 * The fixed validation pipeline. Each step is a small function over the metadata so far; the
 * order matters only where a later rule reads an earlier result (redirects need grant types).
 */
export async function validateClientMetadata(
  input: Record<string, unknown>,
  policy: MetadataRules,
  tier: Tier,
  source: MetadataSource = 'registration',
): Promise<ClientMetadata> {
  const document = source === 'metadata_document';
  const known = checkFieldTypes(input, { httpsOnly: document });
  const out: ClientMetadata = Object.create(null);

  // The two fields are resolved together: a refusal points at grant_types when sent.
  const selectionPointer =
    known.grant_types !== undefined || known.response_types === undefined ? '/grant_types' : '/response_types';
  const { grantTypes, responseTypes } = atPointer(selectionPointer, () =>
    resolveGrantAndResponseTypes(known.grant_types, known.response_types, tier.allowedGrantTypes, {
      dropUnsupported: document,
    }),
  );

  const redirectKinds = checkRedirectUris(known, grantTypes, policy);
  const applicationType = resolveApplicationType(known, redirectKinds, grantTypes);
  const authMethod = atPointer('/token_endpoint_auth_method', () => resolveAuthMethod(known, policy));
  atPointer('/grant_types', () => checkGrantsForAuthMethod(grantTypes, authMethod));
  atPointer(known.jwks_uri !== undefined ? '/jwks_uri' : '/token_endpoint_auth_method', () =>
    checkKeySource(known, authMethod),
  );
  const jwks = known.jwks;
  if (jwks !== undefined) atPointer('/jwks', () => checkJwkSet(jwks));
  checkPostLogoutRedirectUris(known, policy);
  atPointer('/token_endpoint_auth_signing_alg', () => checkSigningAlgorithm(known));
  await checkSectorIdentifier(known, policy);

  // Echo order: the fields that shape the client first, then everything else as sent.
  if (known.redirect_uris !== undefined) out.redirect_uris = known.redirect_uris;
  out.token_endpoint_auth_method = authMethod;
  out.grant_types = grantTypes;
  out.response_types = responseTypes;
  out.application_type = applicationType;
  for (const [key, value] of Object.entries(known)) {
    if (!(key in out) && key !== 'scope') out[key] = value;
  }
  const scope = resolveScope(known.scope, tier, policy);
  if (scope !== undefined) out.scope = scope;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Step 1: types and formats, from the field table. Unknown and server-assigned fields drop out.

const LANGUAGE_TAG = /^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 NQCHAR
const CONTROL = /[\u0000-\u001f\u007f]/;
const JWS_ALGS = new Set([
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'ES256K',
  'EdDSA',
  'Ed25519',
  'none',
]);

/**
 * The fields this server understands, each checked by its row's kind. The result is a
 * ClientMetadata because the table is (fields.ts checks each row's kind against the interface).
 * `httpsOnly` holds the web-page URLs (client_uri, logo_uri, policy_uri, tos_uri) to https too.
 */
export function checkFieldTypes(input: Record<string, unknown>, options: { httpsOnly?: boolean } = {}): ClientMetadata {
  const known: ClientMetadata = Object.create(null);
  for (const [key, value] of Object.entries(input)) {
    if (SERVER_ASSIGNED_FIELDS.has(key)) continue;
    const hash = key.indexOf('#');
    const base = hash === -1 ? key : key.slice(0, hash);
    const rule = Object.hasOwn(CLIENT_FIELDS, base) ? CLIENT_FIELDS[base] : undefined;
    if (!rule) continue; // RFC 7591 §2: unknown metadata is ignored
    if (hash !== -1) {
      // RFC 7591 §2.2: only human-readable fields take a language tag; others with '#' are unknown.
      if (!rule.localizable) continue;
      const tag = key.slice(hash + 1);
      if (!LANGUAGE_TAG.test(tag)) {
        throw pointAt(invalidMetadata(`${key}: '${tag}' is not a valid BCP 47 language tag`), jsonPointer(key));
      }
    }
    // JSON null means "not provided" for an optional member.
    if (value === null) continue;
    known[key] = atPointer(jsonPointer(key), () => checkValue(key, value, rule, options.httpsOnly === true));
  }
  return known;
}

function checkValue(field: string, value: unknown, rule: FieldRule, httpsOnly: boolean): unknown {
  switch (rule.kind) {
    case 'string':
      return checkString(field, value, rule);
    case 'url':
      // Pending CIMD draft PR #50: a document's URIs are all https.
      return checkUrl(field, checkString(field, value, rule), httpsOnly ? ['https:'] : ['http:', 'https:']);
    case 'https-url':
      return checkUrl(field, checkString(field, value, rule), ['https:']);
    case 'string-array':
      return checkArray(field, value, rule).map((item, i) =>
        atPointer(jsonPointer(field, i), () => checkString(`${field}[${i}]`, item, rule)),
      );
    case 'https-url-array':
      return checkArray(field, value, rule).map((item, i) =>
        atPointer(jsonPointer(field, i), () =>
          checkUrl(`${field}[${i}]`, checkString(`${field}[${i}]`, item, rule), ['https:']),
        ),
      );
    case 'scope':
      return checkScope(field, value, rule);
    case 'jwks':
      if (
        typeof value !== 'object' ||
        value === null ||
        Array.isArray(value) ||
        !('keys' in value) ||
        !Array.isArray(value.keys)
      ) {
        throw invalidMetadata(`${field} must be a JWK Set: an object with a "keys" array (RFC 7517 §5)`);
      }
      return value;
    case 'alg':
      if (typeof value !== 'string' || !JWS_ALGS.has(value)) {
        throw invalidMetadata(
          `${field} must be a supported JWS algorithm (RFC 7518 §3.1), got ${JSON.stringify(value)}`,
        );
      }
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw invalidMetadata(`${field} must be a non-negative integer`);
      }
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw invalidMetadata(`${field} must be true or false`);
      return value;
  }
}

function checkString(field: string, value: unknown, rule: FieldRule): string {
  if (typeof value !== 'string') throw invalidMetadata(`${field} must be a string`);
  if (value.length === 0) throw invalidMetadata(`${field} must not be empty`);
  if (rule.maxLength !== undefined && value.length > rule.maxLength) {
    throw invalidMetadata(`${field} must be at most ${rule.maxLength} characters`);
  }
  if (CONTROL.test(value)) throw invalidMetadata(`${field} must not contain control characters`);
  if (rule.oneOf && !rule.oneOf.includes(value)) {
    throw invalidMetadata(`${field} must be one of ${rule.oneOf.map((v) => `'${v}'`).join(', ')}, got '${value}'`);
  }
  return value;
}

function checkArray(field: string, value: unknown, rule: FieldRule): unknown[] {
  if (!Array.isArray(value)) throw invalidMetadata(`${field} must be an array`);
  if (rule.maxItems !== undefined && value.length > rule.maxItems) {
    throw invalidMetadata(`${field} must have at most ${rule.maxItems} entries`);
  }
  return value;
}

function checkUrl(field: string, value: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidMetadata(`${field} must be an absolute URL: ${value}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw invalidMetadata(`${field} must use ${protocols.map((p) => p.slice(0, -1)).join(' or ')}: ${value}`);
  }
  if (url.username || url.password) throw invalidMetadata(`${field} must not contain credentials: ${value}`);
  return value;
}

function checkScope(field: string, value: unknown, rule: FieldRule): string {
  if (typeof value !== 'string') throw invalidMetadata(`${field} must be a string of space-separated scope values`);
  if (rule.maxLength !== undefined && value.length > rule.maxLength) {
    throw invalidMetadata(`${field} must be at most ${rule.maxLength} characters`);
  }
  for (const token of value.split(' ')) {
    if (token !== '' && !SCOPE_TOKEN.test(token)) {
      throw invalidMetadata(`${field}: '${token}' is not a valid scope value (RFC 6749 §3.3)`);
    }
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Step 2: redirect URIs and the application type they imply.

function checkRedirectUris(known: ClientMetadata, grants: string[], policy: MetadataRules): RedirectUriKind[] {
  const uris = known.redirect_uris;
  if (usesRedirects(grants) && (uris === undefined || uris.length === 0)) {
    // The seed's wording; RFC 7591 §2 makes redirect_uris required for redirect-based flows.
    throw pointAt(invalidRedirectUri('redirect_uris required for authorization code grants'), '/redirect_uris');
  }
  const rules = { requireHttps: policy.requireHttpsRedirectUris, allowedSchemes: policy.allowedRedirectUriSchemes };
  return (uris ?? []).map((uri, i) =>
    atPointer(jsonPointer('redirect_uris', i), () => classifyRedirectUri(uri, rules)),
  );
}

/**
 * OIDC DCR §2 `application_type`, inferred with RFC 8252 when the client does not say. Loopback
 * (§7.3) and private-use (§7.1) redirects only make sense for an app on the user's device, so a
 * client that registers any of them is native; a native app may also register claimed https
 * redirects (§7.2). Cursor and Grok send all three kinds in one request with no application_type.
 * Only a client that declares itself web is held to the web rules: no private-use schemes (§7.1),
 * and no loopback with the implicit grant (OIDC DCR §2).
 */
function resolveApplicationType(known: ClientMetadata, kinds: RedirectUriKind[], grants: string[]): 'web' | 'native' {
  const type = known.application_type ?? (kinds.some(isNativeRedirectKind) ? 'native' : 'web');
  if (type === 'web') {
    const uris = known.redirect_uris;
    kinds.forEach((kind, i) => {
      if (kind === 'private-use') {
        throw pointAt(
          invalidRedirectUri(
            `Private-use URI schemes are only for native clients (application_type "native"): ${uris?.[i]}`,
          ),
          jsonPointer('redirect_uris', i),
        );
      }
      if (kind === 'loopback' && grants.includes(GRANT.implicit)) {
        throw pointAt(
          invalidRedirectUri(`Web clients using the implicit grant must not redirect to loopback: ${uris?.[i]}`),
          jsonPointer('redirect_uris', i),
        );
      }
    });
  }
  return type;
}

function checkPostLogoutRedirectUris(known: ClientMetadata, policy: MetadataRules): void {
  const uris = known.post_logout_redirect_uris;
  const rules = { requireHttps: policy.requireHttpsRedirectUris, allowedSchemes: policy.allowedRedirectUriSchemes };
  (uris ?? []).forEach((uri, i) => {
    atPointer(jsonPointer('post_logout_redirect_uris', i), () => classifyRedirectUri(uri, rules));
  });
}

/**
 * OIDC DCR §5 / OIDC Core §8.1: the document at sector_identifier_uri is a JSON array that must
 * list every redirect URI. A pairwise client whose redirects span several hosts needs one.
 */
async function checkSectorIdentifier(known: ClientMetadata, policy: MetadataRules): Promise<void> {
  const uris = known.redirect_uris ?? [];
  const sector = known.sector_identifier_uri;
  if (sector === undefined) {
    if (known.subject_type === 'pairwise' && new Set(uris.map(hostOf)).size > 1) {
      throw pointAt(
        invalidMetadata(
          'subject_type pairwise with redirect URIs on several hosts requires sector_identifier_uri (OIDC Core §8.1)',
        ),
        '/subject_type',
      );
    }
    return;
  }
  let listed: unknown;
  try {
    listed = await policy.fetchJson(sector);
  } catch (error) {
    const reason = error instanceof SafeFetchError ? error.reason : 'fetch failed';
    throw pointAt(
      invalidMetadata(`sector_identifier_uri could not be fetched (${reason}): ${sector}`),
      '/sector_identifier_uri',
    );
  }
  if (!Array.isArray(listed) || listed.some((u) => typeof u !== 'string')) {
    throw pointAt(
      invalidMetadata(`sector_identifier_uri must return a JSON array of URIs: ${sector}`),
      '/sector_identifier_uri',
    );
  }
  uris.forEach((uri, i) => {
    if (!listed.includes(uri)) {
      throw pointAt(
        invalidRedirectUri(`Redirect URI is not listed at sector_identifier_uri: ${uri}`),
        jsonPointer('redirect_uris', i),
      );
    }
  });
}

function hostOf(uri: string): string {
  try {
    return new URL(uri).host;
  } catch {
    return uri;
  }
}

// ---------------------------------------------------------------------------------------------
// Step 3: client authentication and keys.

function resolveAuthMethod(known: ClientMetadata, policy: MetadataRules): string {
  // RFC 7591 §2: the default is client_secret_basic.
  const method = known.token_endpoint_auth_method ?? 'client_secret_basic';
  if (!policy.tokenEndpointAuthMethods.has(method)) {
    throw invalidMetadata(
      `token_endpoint_auth_method '${method}' is not supported (supported: ${[...policy.tokenEndpointAuthMethods].join(', ')})`,
    );
  }
  return method;
}

// ---------------------------------------------------------------------------------------------
// Step 4: scope.

/**
 * `scope: ""` (sent by several MCP clients) means no scope was asked for. Values outside the
 * deployment's scopes are dropped and the result echoed: RFC 7591 §3.2.1 lets the server replace
 * requested metadata, and a narrower grant is safer than a refused client.
 */
function resolveScope(requested: string | undefined, tier: Tier, policy: MetadataRules): string | undefined {
  const tokens = [...new Set((requested ?? '').split(' ').filter((t) => t !== ''))];
  const supported = tier.scopesSupported;
  const kept = supported ? tokens.filter((t) => supported.has(t)) : tokens;
  if (kept.length > 0) return kept.join(' ');
  return policy.defaultScope;
}

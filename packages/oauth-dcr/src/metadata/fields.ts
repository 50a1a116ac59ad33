import type { ClientJwkSet, KnownClientMetadata } from '../core/client-metadata.js';

/**
 * The client metadata this server understands, as data: one row per field, checked by the
 * pipeline in validate.ts. Anything not listed here is ignored (RFC 7591 §2: "The authorization
 * server MUST ignore any client metadata sent by the client that it does not understand").
 */

export type FieldKind =
  | 'string' // non-empty text
  | 'url' // absolute http(s) URL of a web page
  | 'https-url' // absolute https URL the server may fetch or send users to
  | 'string-array' // array of non-empty strings
  | 'https-url-array'
  | 'scope' // RFC 6749 §3.3 space-delimited scope tokens
  | 'jwks' // RFC 7517 JWK Set, public keys only
  | 'alg' // a JWS algorithm name
  | 'integer' // non-negative integer
  | 'boolean';

export interface FieldRule {
  kind: FieldKind;
  /** RFC 7591 §2.2: human-readable fields may carry a BCP 47 language tag (`client_name#ja-Jpan-JP`). */
  localizable?: boolean;
  /** For strings (and each array item): maximum length in characters. */
  maxLength?: number;
  /** For arrays: maximum number of items. */
  maxItems?: number;
  /** Allowed values, when the field is an enumeration. */
  oneOf?: readonly string[];
  /** Where the rule comes from, for error messages and readers. */
  source: string;
}

/** The value each kind's check guarantees; the table below is checked against ClientMetadata with it. */
interface KindValue {
  string: string;
  url: string;
  'https-url': string;
  'string-array': string[];
  'https-url-array': string[];
  scope: string;
  jwks: ClientJwkSet;
  alg: string;
  integer: number;
  boolean: boolean;
}

/** The kinds whose checked value fits a field of type T (an enumeration narrows a string with `oneOf`). */
type KindsFor<T> = { [K in FieldKind]: NonNullable<T> extends KindValue[K] ? K : never }[FieldKind];

/**
 * One optional row per ClientMetadata field, whose kind must produce that field's type: a row for
 * a field the interface lacks, or a kind that checks the wrong type, does not compile.
 */
export type FieldTable = {
  readonly [F in keyof KnownClientMetadata]?: FieldRule & { kind: KindsFor<KnownClientMetadata[F]> };
};

const NAME_MAX = 256;
const URL_MAX = 2048;

/**
 * Fields handled by their own steps (redirect_uris, grant_types, response_types,
 * token_endpoint_auth_method, application_type) still appear here so that type checks run first
 * and uniformly.
 */
const FIELD_TABLE = {
  // RFC 7591 §2
  redirect_uris: { kind: 'string-array', maxItems: 32, maxLength: URL_MAX, source: 'RFC 7591 §2' },
  token_endpoint_auth_method: { kind: 'string', maxLength: 64, source: 'RFC 7591 §2' },
  grant_types: { kind: 'string-array', maxItems: 16, maxLength: 256, source: 'RFC 7591 §2' },
  response_types: { kind: 'string-array', maxItems: 16, maxLength: 64, source: 'RFC 7591 §2' },
  client_name: { kind: 'string', localizable: true, maxLength: NAME_MAX, source: 'RFC 7591 §2' },
  client_uri: { kind: 'url', localizable: true, maxLength: URL_MAX, source: 'RFC 7591 §2' },
  logo_uri: { kind: 'url', localizable: true, maxLength: URL_MAX, source: 'RFC 7591 §2' },
  scope: { kind: 'scope', maxLength: 2048, source: 'RFC 7591 §2' },
  contacts: { kind: 'string-array', maxItems: 16, maxLength: 320, source: 'RFC 7591 §2' },
  tos_uri: { kind: 'url', localizable: true, maxLength: URL_MAX, source: 'RFC 7591 §2' },
  policy_uri: { kind: 'url', localizable: true, maxLength: URL_MAX, source: 'RFC 7591 §2' },
  jwks_uri: { kind: 'https-url', maxLength: URL_MAX, source: 'RFC 7591 §2' },
  jwks: { kind: 'jwks', source: 'RFC 7591 §2' },
  software_id: { kind: 'string', maxLength: NAME_MAX, source: 'RFC 7591 §2' },
  software_version: { kind: 'string', maxLength: NAME_MAX, source: 'RFC 7591 §2' },

  // OpenID Connect Dynamic Client Registration 1.0 §2
  application_type: { kind: 'string', oneOf: ['web', 'native'], source: 'OIDC DCR §2' },
  subject_type: { kind: 'string', oneOf: ['public', 'pairwise'], source: 'OIDC DCR §2' },
  sector_identifier_uri: { kind: 'https-url', maxLength: URL_MAX, source: 'OIDC DCR §2' },
  id_token_signed_response_alg: { kind: 'alg', source: 'OIDC DCR §2' },
  userinfo_signed_response_alg: { kind: 'alg', source: 'OIDC DCR §2' },
  request_object_signing_alg: { kind: 'alg', source: 'OIDC DCR §2' },
  token_endpoint_auth_signing_alg: { kind: 'alg', source: 'OIDC DCR §2' },
  default_max_age: { kind: 'integer', source: 'OIDC DCR §2' },
  require_auth_time: { kind: 'boolean', source: 'OIDC DCR §2' },
  default_acr_values: { kind: 'string-array', maxItems: 16, maxLength: 256, source: 'OIDC DCR §2' },
  initiate_login_uri: { kind: 'https-url', maxLength: URL_MAX, source: 'OIDC DCR §2' },
  request_uris: { kind: 'https-url-array', maxItems: 16, maxLength: URL_MAX, source: 'OIDC DCR §2' },
  // OpenID Connect RP-Initiated Logout 1.0 §3.1
  post_logout_redirect_uris: {
    kind: 'string-array',
    maxItems: 32,
    maxLength: URL_MAX,
    source: 'OIDC RP-Initiated Logout §3.1',
  },
} as const satisfies FieldTable;

/** The table by field name, for look-ups of names as sent (`Object.hasOwn` first: names are client input). */
export const CLIENT_FIELDS: Readonly<Record<string, FieldRule>> = FIELD_TABLE;

/**
 * Response members the server assigns. In a registration request they are not metadata and are
 * ignored; RFC 7592 §2.2 has its own rules for them on update.
 */
export const SERVER_ASSIGNED_FIELDS = new Set([
  'client_id',
  'client_secret',
  'client_id_issued_at',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
]);

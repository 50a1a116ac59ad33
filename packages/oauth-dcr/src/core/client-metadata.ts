/**
 * Client metadata in RFC 7591 wire names (snake_case): what a client sends, what the server
 * registers and echoes. Every member is optional on the wire; after validation the server has
 * filled in `token_endpoint_auth_method`, `grant_types`, `response_types` and `application_type`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 * @see https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata
 */
export interface KnownClientMetadata {
  // RFC 7591 §2
  /** Redirection URIs for redirect-based flows, echoed byte for byte and in order. */
  redirect_uris?: string[];
  /** How the client authenticates at the token endpoint. Default `client_secret_basic`. */
  token_endpoint_auth_method?: string;
  /** Default `['authorization_code']`; RFC 7591 §2.1 ties them to `response_types`. */
  grant_types?: string[];
  response_types?: string[];
  /** Human-readable; may also come language-tagged (`client_name#ja-Jpan-JP`, RFC 7591 §2.2). */
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  /** RFC 6749 §3.3 space-separated scope values. */
  scope?: string;
  contacts?: string[];
  tos_uri?: string;
  policy_uri?: string;
  /** The client's public keys by reference; never together with `jwks`. */
  jwks_uri?: string;
  /** The client's public keys by value (RFC 7517 §5); never together with `jwks_uri`. */
  jwks?: ClientJwkSet;
  software_id?: string;
  software_version?: string;
  /** RFC 7591 §2.3: a signed JWT about the software, echoed unmodified (§3.2.1). */
  software_statement?: string;

  // OpenID Connect Dynamic Client Registration 1.0 §2
  application_type?: 'web' | 'native';
  sector_identifier_uri?: string;
  subject_type?: 'public' | 'pairwise';
  id_token_signed_response_alg?: string;
  id_token_encrypted_response_alg?: string;
  id_token_encrypted_response_enc?: string;
  userinfo_signed_response_alg?: string;
  userinfo_encrypted_response_alg?: string;
  userinfo_encrypted_response_enc?: string;
  request_object_signing_alg?: string;
  request_object_encryption_alg?: string;
  request_object_encryption_enc?: string;
  token_endpoint_auth_signing_alg?: string;
  default_max_age?: number;
  require_auth_time?: boolean;
  default_acr_values?: string[];
  initiate_login_uri?: string;
  request_uris?: string[];

  // OpenID Connect RP-Initiated Logout 1.0 §3.1
  post_logout_redirect_uris?: string[];
}

/**
 * The known fields, plus anything else: language-tagged variants (`client_name#fr`, RFC 7591
 * §2.2) and extensions. A server ignores metadata it does not understand (RFC 7591 §2), so only
 * what this server registered is echoed; a `validateMetadata` hook may add its own fields.
 */
export interface ClientMetadata extends KnownClientMetadata {
  [field: string]: unknown;
}

/** RFC 7517 §5: a JWK Set. Registration accepts public keys only. */
export interface ClientJwkSet {
  keys: Array<Record<string, unknown>>;
}

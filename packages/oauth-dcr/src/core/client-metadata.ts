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
  /** Response types the client may use at the authorization endpoint. Default `['code']`. */
  response_types?: string[];
  /** Human-readable; may also come language-tagged (`client_name#ja-Jpan-JP`, RFC 7591 §2.2). */
  client_name?: string;
  /** The client's home page, for consent screens. */
  client_uri?: string;
  /** The client's logo, for consent screens. */
  logo_uri?: string;
  /** RFC 6749 §3.3 space-separated scope values. */
  scope?: string;
  /** Ways to reach the people responsible for the client, usually e-mail addresses. */
  contacts?: string[];
  /** The client's terms of service. */
  tos_uri?: string;
  /** The client's privacy policy. */
  policy_uri?: string;
  /** The client's public keys by reference; never together with `jwks`. */
  jwks_uri?: string;
  /** The client's public keys by value (RFC 7517 §5); never together with `jwks_uri`. */
  jwks?: ClientJwkSet;
  /** Identifies the client software, the same for every instance of it. */
  software_id?: string;
  /** Version of the client software named by `software_id`. */
  software_version?: string;
  /** RFC 7591 §2.3: a signed JWT about the software, echoed unmodified (§3.2.1). */
  software_statement?: string;

  // OpenID Connect Dynamic Client Registration 1.0 §2
  /** `native` for apps on the user's device (custom schemes, loopback); `web` otherwise (default). */
  application_type?: 'web' | 'native';
  /**
   * A https URL holding a JSON array of the client's redirect URIs, which groups them under one
   * host for pairwise subject identifiers; fetched and checked at registration.
   *
   * @see https://openid.net/specs/openid-connect-registration-1_0.html#SectorIdentifierValidation
   */
  sector_identifier_uri?: string;
  /** Whether a user's subject identifier is the same for every client (`public`) or one per client (`pairwise`). */
  subject_type?: 'public' | 'pairwise';
  /** JWS algorithm the client wants its ID tokens signed with. */
  id_token_signed_response_alg?: string;
  /** JWE key management algorithm for encrypted ID tokens. */
  id_token_encrypted_response_alg?: string;
  /** JWE content encryption algorithm for encrypted ID tokens. */
  id_token_encrypted_response_enc?: string;
  /** JWS algorithm for signed UserInfo responses. */
  userinfo_signed_response_alg?: string;
  /** JWE key management algorithm for encrypted UserInfo responses. */
  userinfo_encrypted_response_alg?: string;
  /** JWE content encryption algorithm for encrypted UserInfo responses. */
  userinfo_encrypted_response_enc?: string;
  /** JWS algorithm the client signs its request objects with. */
  request_object_signing_alg?: string;
  /** JWE key management algorithm the client encrypts request objects with. */
  request_object_encryption_alg?: string;
  /** JWE content encryption algorithm the client encrypts request objects with. */
  request_object_encryption_enc?: string;
  /** JWS algorithm for the client's JWT assertions at the token endpoint (private_key_jwt). */
  token_endpoint_auth_signing_alg?: string;
  /** Default maximum authentication age in seconds: older sign-ins must be redone. */
  default_max_age?: number;
  /** Whether ID tokens must carry `auth_time`. */
  require_auth_time?: boolean;
  /** Default authentication context class references, in order of preference. */
  default_acr_values?: string[];
  /** A https URL a third party may open to start a login at the client. */
  initiate_login_uri?: string;
  /** Request object URIs the client registers in advance (`request_uri`). */
  request_uris?: string[];

  // OpenID Connect RP-Initiated Logout 1.0 §3.1
  /** Where the user may be sent back after logging out. */
  post_logout_redirect_uris?: string[];
}

/**
 * The known fields, plus anything else: language-tagged variants (`client_name#fr`, RFC 7591
 * §2.2) and extensions. A server ignores metadata it does not understand (RFC 7591 §2), so only
 * what this server registered is echoed; a `validateMetadata` hook may add its own fields.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2.2
 */
export interface ClientMetadata extends KnownClientMetadata {
  [field: string]: unknown;
}

/**
 * RFC 7517 §5: a JWK Set. Registration accepts public keys only.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export interface ClientJwkSet {
  /** The keys, each a JWK (RFC 7517 §4). */
  keys: Array<Record<string, unknown>>;
}

// Public API of the core. Adapters and stores live behind their own subpath exports
// (oauth-dcr/express, oauth-dcr/node, oauth-dcr/sqlite, oauth-dcr/postgres, ...).
export {
  createRegistration,
  type Registration,
  type ClientLimits,
  type ClientLookup,
} from './protocol/create-registration.js';
export type { RawRequest } from './core/request.js';
export type { HttpResult } from './core/response.js';
export {
  DEFAULT_ALLOWED_GRANT_TYPES,
  type RegistrationOptions,
  type RegistrationContext,
  type RequestContext,
  type TierOptions,
  type SoftwareStatementOptions,
  type TrustedStatementIssuer,
} from './core/options.js';
export type * from './core/limit-options.js';
export type * from './core/lifecycle-options.js';
export type { AuthenticationLimits, RateLimitRefusal } from './limits/authentication-limits.js';
export type { ClientOperator, OperatorClientInput, CreatedClient } from './protocol/client-operator.js';
export type { ReapOptions, ReapReport, ReapReason } from './protocol/idle-reaper.js';
// Rights an operator grants a client (`oauth-dcr clients create --right introspection=...`).
export { KNOWN_RIGHTS, parseClientRight, normalizeClientRights, type ClientRight } from './protocol/client-rights.js';
export { RegistrationError, isRegistrationError, type RegistrationErrorCode } from './core/errors.js';
export { generateSecret, hashSecret, verifySecret } from './core/secrets.js';
export { redirectUriMatches, classifyRedirectUri } from './metadata/redirect-uris.js';
export { isAcceptedSecret, isCurrentSecret } from './protocol/client-auth.js';
export {
  readClientCredentials,
  checkClientAuthMethod,
  type ClientAuthMethod,
  type PresentedClientCredentials,
} from './protocol/client-auth.js';
export type { RegistrationServerMetadata } from './protocol/server-metadata.js';
// The registration dry run (Registration.validate) and what it answers.
export type {
  ValidateOptions,
  ValidationResult,
  ValidRegistration,
  RefusedRegistration,
  MetadataChange,
} from './protocol/dry-run.js';
export type { InitialAccessTokenAdmin, CreateInitialAccessTokenOptions } from './protocol/initial-access-tokens.js';
export type * from './store/types.js';
export { REGISTRATION_TIERS } from './store/types.js';
// Named, so it takes precedence over the store's plain record alias of the same name above.
export type { ClientMetadata, KnownClientMetadata, ClientJwkSet } from './core/client-metadata.js';
export { ClientExistsError, StoreClosedError } from './store/errors.js';
export { isStorableText, checkStorableText } from './store/text.js';
// private_key_jwt client authentication (RFC 7523).
export { JWT_BEARER_CLIENT_ASSERTION_TYPE } from './protocol/client-auth.js';
export type { ClientAssertionVerification } from './protocol/client-assertion.js';
export { CLIENT_ASSERTION_ALGORITHMS } from './metadata/client-keys.js';
export { createMemoryReplayGuard, type MemoryReplayGuardOptions } from './core/replay-guard.js';
export type { ClientAssertionOptions, ClientAssertionReplayGuard } from './core/options.js';
// Client ID Metadata Documents (the clientIdMetadataDocuments option).
export type { ClientIdMetadataDocumentOptions, DocumentCacheOptions } from './core/document-options.js';
// OAuth 2.0 Attestation-Based Client Authentication (draft-ietf-oauth-attestation-based-client-auth-10).
export type {
  ClientAttestationOptions,
  TrustedAttester,
  AttestationChallengeOptions,
} from './core/attestation-options.js';
export {
  createClientAttestationVerifier,
  type ClientAttestationVerifier,
  type ClientAttestationVerifierSettings,
  type AttestationVerification,
  type AttestationErrorCode,
  type AttestationHeaders,
  type AttestationExpectations,
} from './attestation/verifier.js';
export { ATTESTATION_ALGORITHMS, ATTESTATION_TYP, ATTESTATION_POP_TYP } from './attestation/attestation-jwt.js';
export { attestersForClient, ATTESTED_TIER } from './attestation/trust.js';

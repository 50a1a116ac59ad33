// Public API of the core. Adapters and stores live behind their own subpath exports
// (oauth-dcr/express, oauth-dcr/node, oauth-dcr/sqlite, oauth-dcr/postgres, ...).
export { createRegistration, type Registration } from './http/web.js';
export type { RawRequest } from './http/request.js';
export type { HttpResult } from './http/response.js';
export {
  resolvePolicy,
  DEFAULT_ALLOWED_GRANT_TYPES,
  type RegistrationOptions,
  type RegistrationContext,
  type RequestContext,
  type Policy,
  type TierOptions,
} from './policy.js';
export { RegistrationError, isRegistrationError, type RegistrationErrorCode } from './errors.js';
export { generateSecret, hashSecret, verifySecret } from './secrets.js';
export { redirectUriMatches, classifyRedirectUri } from './metadata/redirect-uris.js';
export { isAcceptedSecret, isCurrentSecret } from './registration/client-auth.js';
export { readClientCredentials, checkClientAuthMethod, type ClientAuthMethod, type PresentedClientCredentials } from './registration/client-auth.js';
export type { RegistrationServerMetadata } from './registration/server-metadata.js';
export type { InitialAccessTokenAdmin, CreateInitialAccessTokenOptions } from './registration/initial-access-tokens.js';
export type * from './store/types.js';
export { ClientExistsError, StoreClosedError } from './store/errors.js';

/**
 * The `oauth-dcr/errors` subpath: the error class and its codes alone, for hosts that map
 * registration errors without loading the endpoint.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2
 */
export {
  RegistrationError,
  isRegistrationError,
  REGISTRATION_ERROR_CODES,
  type RegistrationErrorCode,
  type RegistrationErrorOptions,
} from './core/errors.js';

import { MAX_JSON_DEPTH, sanitizeJson } from '../core/request.js';
import { invalidDocument } from './refusal.js';

/**
 * The rules a Client ID Metadata Document must keep beyond those of any client metadata
 * (draft-ietf-oauth-client-id-metadata-document-01 §4.1; MCP "For Authorization Servers"). The
 * shared rules (redirect URIs, grant and response types, keys, scope) are the metadata engine's.
 */

/** RFC 7591 §2 methods that rest on a secret shared with the server: a public document has none (§4.1). */
const SHARED_SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

/**
 * The token endpoint auth methods a document client may use: `none` always (a public client with
 * PKCE), `private_key_jwt` when the deployment verifies client assertions (§6.2), and
 * `attest_jwt_client_auth` when it accepts client attestations.
 */
export function documentAuthMethods(deploymentMethods: ReadonlySet<string>): ReadonlySet<string> {
  const methods = new Set(['none']);
  if (deploymentMethods.has('private_key_jwt')) methods.add('private_key_jwt');
  // Attestation-based client authentication rests on an attester's key, not a shared secret, so a
  // public document may declare it (draft-ietf-oauth-attestation-based-client-auth-10 §13.6).
  if (deploymentMethods.has('attest_jwt_client_auth')) methods.add('attest_jwt_client_auth');
  return methods;
}

/**
 * Checks the document's own rules and returns the metadata to validate, with the chosen
 * `token_endpoint_auth_method` filled in. Throws a DocumentRefusal `invalid_client_metadata`.
 */
export function checkDocumentRules(
  document: Record<string, unknown>,
  clientId: string,
  authMethods: ReadonlySet<string>,
): Record<string, unknown> {
  // Fetched JSON becomes client metadata as a request body does: the same prototype-poisoning
  // keys and depth limit apply to it.
  if (!sanitizeJson(document))
    throw invalidDocument(`Client ID Metadata Document is nested deeper than ${MAX_JSON_DEPTH} levels`);
  // §4.1 MUST: the document names itself, compared as strings: no case folding, no default-port
  // removal, no trailing-slash tolerance.
  if (document.client_id !== clientId) {
    throw invalidDocument('client_id in the Client ID Metadata Document does not match the URL it was fetched from');
  }
  // §4.1 MUST NOT: a document anyone can read carries no secret.
  for (const member of ['client_secret', 'client_secret_expires_at']) {
    if (Object.hasOwn(document, member)) {
      throw invalidDocument(`Client ID Metadata Document must not contain ${member} (CIMD §4.1)`);
    }
  }
  // §4.1 required: redirect_uris, a non-empty array (its entries are the metadata engine's).
  const redirectUris = document.redirect_uris;
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) {
    throw invalidDocument('Client ID Metadata Document must list redirect_uris (a non-empty array)');
  }
  return { ...document, token_endpoint_auth_method: chooseAuthMethod(document, authMethods) };
}

/**
 * §4.1, §6.2: `none` when absent; the document's method when it is supported; otherwise the
 * first supported entry of its `token_endpoint_auth_methods_supported` (ChatGPT publishes
 * `private_key_jwt` with `["none", "private_key_jwt"]`). A shared-secret method is refused outright.
 */
function chooseAuthMethod(document: Record<string, unknown>, authMethods: ReadonlySet<string>): string {
  const method = document.token_endpoint_auth_method;
  if (method === undefined || method === null) return 'none';
  if (typeof method !== 'string') throw invalidDocument('token_endpoint_auth_method must be a string');
  if (SHARED_SECRET_METHODS.has(method)) {
    throw invalidDocument(
      `token_endpoint_auth_method '${method}' needs a shared secret, which a Client ID Metadata Document cannot have (CIMD §4.1)`,
    );
  }
  if (authMethods.has(method)) return method;
  const alternatives = document.token_endpoint_auth_methods_supported;
  if (Array.isArray(alternatives)) {
    const usable = alternatives.find((m): m is string => typeof m === 'string' && authMethods.has(m));
    if (usable !== undefined) return usable;
  }
  throw invalidDocument(
    `token_endpoint_auth_method '${method}' is not supported for Client ID Metadata Documents (supported: ${[...authMethods].join(', ')})`,
  );
}

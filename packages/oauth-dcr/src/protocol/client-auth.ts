import { verifySecret } from '../core/secrets.js';
import type { ClientRecord } from '../store/types.js';

/**
 * Client secret checks shared by RFC 7592 updates and token-endpoint integrations. All
 * comparisons are constant time (secrets.ts).
 */

/**
 * Whether `secret` is the client's current secret, unless it has expired (RFC 7591 §3.2.1
 * client_secret_expires_at, 0 = never). `now` is in epoch seconds (`Registration.now()`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1
 */
export function isCurrentSecret(record: ClientRecord, secret: string, now: number): boolean {
  if (record.clientSecretHash === undefined) return false;
  if (record.clientSecretExpiresAt !== 0 && record.clientSecretExpiresAt <= now) return false;
  return verifySecret(secret, record.clientSecretHash);
}

/**
 * Whether `secret` authenticates the client: the current secret, or the previous one while its
 * renewal overlap lasts (the `secretRenewalOverlap` option). Use it at the token endpoint.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1
 */
export function isAcceptedSecret(record: ClientRecord, secret: string, now: number): boolean {
  if (isCurrentSecret(record, secret, now)) return true;
  return (
    record.previousSecretHash !== undefined &&
    record.previousSecretExpiresAt !== undefined &&
    record.previousSecretExpiresAt > now &&
    verifySecret(secret, record.previousSecretHash)
  );
}

/**
 * The `token_endpoint_auth_method` values (RFC 7591 §2) a request shows by its shape alone, and
 * that this library checks. A client registered with any other method (private_key_jwt) matches
 * none of them, and is refused.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/**
 * What a token, revocation or introspection request presented to authenticate its client
 * (RFC 6749 §2.3.1).
 * - `credentials`: the client named itself; `method` is how it authenticated, `clientSecret` the
 *   secret it presented (absent when none was, or an empty one).
 * - `missing`: no client_id anywhere.
 * - `invalid`: the request is malformed, an RFC 6749 §5.2 `invalid_request`. That includes a
 *   request that uses more than one method (§2.3: "MUST NOT use more than one"), which §5.2
 *   names among the causes of `invalid_request`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export type PresentedClientCredentials =
  | { kind: 'credentials'; clientId: string; clientSecret?: string; method: ClientAuthMethod }
  | { kind: 'missing' }
  | { kind: 'invalid'; description: string };

/**
 * Reads the client's credentials from a request's Authorization header and form body, as HTTP
 * Basic (client_secret_basic), body parameters (client_secret_post), or a client_id alone (none).
 *
 * An HTTP Basic header is client_secret_basic even with an empty password: RFC 6749 §2.3.1
 * offers Basic to clients that hold a password, so a public client never sends it. An empty
 * client_secret parameter presents nothing, as in @node-oauth/oauth2-server and
 * node-oidc-provider, so that clients which send `client_secret=` for a public client still work.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
export function readClientCredentials(request: {
  authorization?: string | undefined;
  body?: Readonly<Record<string, unknown>> | undefined;
}): PresentedClientCredentials {
  const body = request.body ?? {};
  const postedSecret = body.client_secret;
  if (postedSecret !== undefined && typeof postedSecret !== 'string') {
    return { kind: 'invalid', description: 'client_secret is malformed' };
  }
  const postsSecret = postedSecret !== undefined && postedSecret !== '';
  const header = request.authorization;
  if (header !== undefined && header !== '') {
    const basic = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
    if (!basic) return { kind: 'invalid', description: 'The Authorization header is not HTTP Basic' };
    if (postsSecret)
      return { kind: 'invalid', description: 'Use one client authentication method, not two (RFC 6749 §2.3)' };
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'invalid', description: 'Malformed HTTP Basic credentials' };
    let clientId: string;
    let clientSecret: string;
    try {
      // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
      clientId = formDecode(decoded.slice(0, colon));
      clientSecret = formDecode(decoded.slice(colon + 1));
    } catch {
      return { kind: 'invalid', description: 'Malformed HTTP Basic credentials' };
    }
    if (typeof body.client_id === 'string' && body.client_id !== clientId) {
      return { kind: 'invalid', description: 'client_id in the body does not match the Authorization header' };
    }
    return { kind: 'credentials', clientId, ...(clientSecret ? { clientSecret } : {}), method: 'client_secret_basic' };
  }
  if (typeof body.client_id !== 'string' || body.client_id === '') return { kind: 'missing' };
  return postsSecret
    ? { kind: 'credentials', clientId: body.client_id, clientSecret: postedSecret, method: 'client_secret_post' }
    : { kind: 'credentials', clientId: body.client_id, method: 'none' };
}

/**
 * Whether a client authenticated with the method it registered (RFC 7591 §2
 * `token_endpoint_auth_method`, default client_secret_basic): undefined when it did, otherwise
 * why not, for an RFC 6749 §5.2 `invalid_client`. A public client (`none`) that presents a
 * secret uses a method it did not register, and is refused like any other.
 *
 * Call it after the client's credentials have been verified, so that the answer, which names
 * the registered method, only reaches a caller that proved who it is (or a public client).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export function checkClientAuthMethod(registeredMethod: string, usedMethod: ClientAuthMethod): string | undefined {
  if (usedMethod === registeredMethod) return undefined;
  return `This client registered token_endpoint_auth_method ${registeredMethod}, and must use it; the request used ${usedMethod}`;
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

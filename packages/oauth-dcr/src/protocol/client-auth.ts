import { decodeJwt, type JWTPayload } from 'jose';
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
 * that this library checks: a secret in the Basic header or the body, a client_id alone, or a
 * JWT client assertion (RFC 7523 §2.2). A client registered with any other method matches none
 * of them, and is refused.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'none'
  | 'private_key_jwt'
  // draft-ietf-oauth-attestation-based-client-auth-10 §13.6: the two attestation headers
  // (attestation/verifier.ts); never read by readClientCredentials.
  | 'attest_jwt_client_auth';

/**
 * RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion, the only one accepted.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 */
export const JWT_BEARER_CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * What a token, revocation or introspection request presented to authenticate its client
 * (RFC 6749 §2.3.1, RFC 7521 §4.2).
 * - `credentials`: the client named itself; `method` is how it authenticated, `clientSecret` the
 *   secret it presented (absent when none was, or an empty one). With `private_key_jwt`,
 *   `clientAssertion` is the JWT, not yet verified (`Registration.verifyClientAssertion` does that).
 * - `missing`: no client_id anywhere.
 * - `invalid`: the request is malformed, an RFC 6749 §5.2 `invalid_request`. That includes a
 *   request that uses more than one method (§2.3: "MUST NOT use more than one"), which §5.2
 *   names among the causes of `invalid_request`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 * @see https://www.rfc-editor.org/rfc/rfc7521#section-4.2
 */
export type PresentedClientCredentials =
  | {
      kind: 'credentials';
      clientId: string;
      clientSecret?: string;
      method: Exclude<ClientAuthMethod, 'private_key_jwt' | 'attest_jwt_client_auth'>;
    }
  | {
      kind: 'credentials';
      clientId: string;
      clientSecret?: undefined;
      method: 'private_key_jwt';
      clientAssertion: string;
    }
  | { kind: 'missing' }
  | { kind: 'invalid'; description: string };

/**
 * Reads the client's credentials from a request's Authorization header and form body, as HTTP
 * Basic (client_secret_basic), body parameters (client_secret_post), a JWT client assertion
 * (private_key_jwt, RFC 7523 §2.2; read here, verified by `Registration.verifyClientAssertion`),
 * or a client_id alone (none).
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
  if (isPresent(body.client_assertion) || isPresent(body.client_assertion_type)) {
    return readClientAssertion(body, postsSecret || (header !== undefined && header !== ''));
  }
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

const isPresent = (value: unknown) => value !== undefined && value !== '';

/**
 * A JWT client assertion (RFC 7521 §4.2, RFC 7523 §2.2), read but not verified: the client it
 * names is taken from the `client_id` parameter when sent, which must then be the assertion's
 * `sub` (RFC 7521 §4.2: "MUST identify the same client"), else from its unverified `sub` (or
 * `iss`). Verification holds `iss` and `sub` to that client_id afterwards.
 *
 * A missing, repeated or unsupported `client_assertion_type`, and an assertion that is not a JWT,
 * make the request malformed: RFC 6749 §5.2 `invalid_request` ("includes an unsupported parameter
 * value"). An assertion that is well-formed but fails verification is `invalid_client` (RFC 7521
 * §4.2.1), decided later by `verifyClientAssertion`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7521#section-4.2
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 */
function readClientAssertion(
  body: Readonly<Record<string, unknown>>,
  presentsOtherCredentials: boolean,
): PresentedClientCredentials {
  // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
  if (presentsOtherCredentials) {
    return { kind: 'invalid', description: 'Use one client authentication method, not two (RFC 6749 §2.3)' };
  }
  const { client_assertion_type: type, client_assertion: assertion, client_id: clientIdParameter } = body;
  if (!isPresent(type)) return { kind: 'invalid', description: 'client_assertion_type is missing (RFC 7521 §4.2)' };
  if (typeof type !== 'string') return { kind: 'invalid', description: 'client_assertion_type is malformed' };
  if (type !== JWT_BEARER_CLIENT_ASSERTION_TYPE) {
    return {
      kind: 'invalid',
      description: `client_assertion_type ${type} is not supported; use ${JWT_BEARER_CLIENT_ASSERTION_TYPE}`,
    };
  }
  if (!isPresent(assertion)) return { kind: 'invalid', description: 'client_assertion is missing (RFC 7521 §4.2)' };
  if (typeof assertion !== 'string') return { kind: 'invalid', description: 'client_assertion is malformed' };
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    return { kind: 'invalid', description: 'client_assertion is not a well-formed JWT' };
  }
  const sub = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : undefined;
  if (clientIdParameter !== undefined && typeof clientIdParameter !== 'string') {
    return { kind: 'invalid', description: 'client_id is malformed' };
  }
  if (isPresent(clientIdParameter) && clientIdParameter !== sub) {
    return { kind: 'invalid', description: 'client_id does not match the sub of client_assertion (RFC 7521 §4.2)' };
  }
  const clientId = sub ?? (typeof claims.iss === 'string' && claims.iss !== '' ? claims.iss : undefined);
  if (clientId === undefined) {
    return { kind: 'invalid', description: 'client_assertion names no client (no sub claim)' };
  }
  return { kind: 'credentials', clientId, method: 'private_key_jwt', clientAssertion: assertion };
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

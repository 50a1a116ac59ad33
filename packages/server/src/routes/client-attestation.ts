import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import {
  attestersForClient,
  checkClientAuthMethod,
  type AttestationHeaders,
  type ClientAttestationVerifier,
  type ClientRecord,
} from 'oauth-dcr';
import type { ServerContext } from '../context.js';
import { sendJsonError } from './json-errors.js';

/**
 * Client authentication by a Client Attestation and its PoP at the token endpoint
 * (draft-ietf-oauth-attestation-based-client-auth-10 §7.5): the client named by `client_id`, or
 * else by the attestation's `sub` (§7.5), must have registered `attest_jwt_client_auth` (§13.6),
 * and the attestation must come from an attester trusted for it (§9.8). The rules themselves are
 * the library's (`ClientAttestationVerifier`); this connects them to the HTTP request.
 */

export type AttestationAuthentication =
  | { ok: true; client: ClientRecord; instanceKeyThumbprint: string }
  | { ok: false; status: number; error: string; description: string; headers: Record<string, string> };

/** The two headers, each as every value sent (a repeated header is refused, §4, §5.1). */
export function attestationHeadersOf(req: IncomingMessage): AttestationHeaders {
  const distinct = req.headersDistinct;
  return {
    attestation: distinct['oauth-client-attestation'],
    pop: distinct['oauth-client-attestation-pop'],
  };
}

export async function authenticateByAttestation(
  context: Pick<ServerContext, 'registration'>,
  verifier: ClientAttestationVerifier,
  headers: AttestationHeaders,
  clientIdParameter: string | undefined,
): Promise<AttestationAuthentication> {
  const refuse = (description: string): AttestationAuthentication => ({
    ok: false,
    status: 401,
    error: 'invalid_client',
    description,
    headers: {},
  });
  const single = Array.isArray(headers.attestation) ? headers.attestation : [headers.attestation];
  if (single.length > 1) {
    return {
      ok: false,
      status: 400,
      error: 'invalid_request',
      description: 'Send exactly one OAuth-Client-Attestation header',
      headers: {},
    };
  }
  // §7.5: without a client_id parameter the client is the attestation's sub, read here only to
  // find the client; the verification below holds the signed sub to it.
  let clientId = clientIdParameter;
  if (clientId === undefined) {
    try {
      const sub = single[0] === undefined ? undefined : decodeJwt(single[0]).sub;
      if (typeof sub === 'string' && sub !== '') clientId = sub;
    } catch {
      return refuse('OAuth-Client-Attestation is not a well-formed JWT');
    }
  }
  if (clientId === undefined) return refuse('The attestation names no client');
  const client = await context.registration.resolveClient(clientId);
  if (!client) return refuse('Client authentication failed');
  const verdict = await verifier.verify(headers, {
    attesters: attestersForClient(verifier.attesters, client),
    subject: clientId,
  });
  if (!verdict.ok) {
    return {
      ok: false,
      status: verdict.status,
      error: verdict.error,
      description: verdict.description,
      // §6.2: a use_attestation_challenge answer carries a fresh challenge.
      headers: verdict.challenge ? { 'OAuth-Client-Attestation-Challenge': verdict.challenge } : {},
    };
  }
  // §13.6: only a client registered for this method may use it. Checked once the attestation
  // proved who is asking, since the answer names the registered method.
  const registered = client.metadata.token_endpoint_auth_method;
  const wrongMethod = checkClientAuthMethod(
    typeof registered === 'string' ? registered : 'client_secret_basic',
    'attest_jwt_client_auth',
  );
  if (wrongMethod !== undefined) return refuse(wrongMethod);
  return { ok: true, client, instanceKeyThumbprint: verdict.instanceKeyThumbprint };
}

/** A refused attestation, as a JSON error with the draft's headers. */
export function sendAttestationRefusal(
  res: ServerResponse,
  refusal: Extract<AttestationAuthentication, { ok: false }>,
): void {
  sendJsonError(res, refusal.status, refusal.error, refusal.description, refusal.headers);
}

import { RegistrationError, invalidMetadata } from '../core/errors.js';
import type { Policy } from './policy.js';
import { generateSecret, hashSecret, verifySecret } from '../core/secrets.js';
import type { ClientRecord } from '../store/types.js';
import { bearerToken, readJsonObject, type RawRequest } from '../core/request.js';
import { emptyResult, jsonResult, serializedJsonResult, type HttpResult } from '../core/response.js';
import { clientInformation, clientReadJson } from './client-response.js';
import { clientSecretExpiresAt } from './client-secret.js';
import { emitEvent } from './events.js';
import { acceptClientMetadata } from './metadata-sequence.js';
import { isCurrentSecret } from './client-auth.js';

/**
 * RFC 7592: the client configuration endpoint. Every operation is authorized by the registration
 * access token issued with the client (§1.1, §2).
 */

/** Where failed registration access tokens are counted (failed authentication limits, events). */
const ENDPOINT = 'client_configuration';

/**
 * RFC 7592 §2: a missing or wrong token, an unknown client or a disabled one is 401 invalid_token.
 * A wrong token is a failed authentication: counted per client_id and per address, and an address
 * over its failure budget is refused (429) before its token is even compared.
 */
async function authorize(
  policy: Policy,
  request: RawRequest,
  clientId: string,
): Promise<{ record: ClientRecord; token: string; address: string | undefined }> {
  const address = policy.limits.clientAddress(request.remoteAddress, request.header('x-forwarded-for'));
  const token = bearerToken(request);
  if (token === undefined) {
    throw new RegistrationError('invalid_token', 'A registration access token is required (Authorization: Bearer)');
  }
  const blocked = await policy.limits.authentication.checkAddress(address, ENDPOINT);
  if (blocked) throw blocked.error;
  const record = await policy.store.findClient(clientId);
  // Same answer for an unknown client and a wrong token, so ids cannot be probed (RFC 7592 §2).
  if (!record || !verifySecret(token, record.registrationAccessTokenHash)) {
    emitEvent(policy, {
      type: 'token.rejected',
      clientId,
      ip: address,
      detail: { reason: 'registration access token' },
    });
    // token.rejected is this failure's event; the count alone goes to the limits.
    const refusal = await policy.limits.authentication.countFailure({ clientId, address, endpoint: ENDPOINT });
    if (refusal) throw refusal.error;
    throw invalidRegistrationToken();
  }
  // A disabled client keeps its record but is not there for anyone (RFC 7592 §2: the token is
  // no longer valid), whatever token is shown: not a guess, so nothing is counted.
  if (record.disabledAt !== undefined) throw invalidRegistrationToken();
  return { record, token, address };
}

function invalidRegistrationToken(): RegistrationError {
  return new RegistrationError('invalid_token', 'The registration access token is invalid for this client');
}

/**
 * Writes a change derived from `read` only if the stored client is still `read` (same revision,
 * same registration access token): a compare-and-set, so of concurrent updates and secret
 * renewals exactly one wins and none writes back what another replaced (a retired secret, an old
 * token). A loser learns why, at the cost of one read on this failure path only:
 * - the client is gone or was disabled, or its token was rotated by the winner: 401 invalid_token (RFC 6750 §3.1),
 *   as for any request with that token from now on;
 * - the token still holds but the client changed meanwhile: 409 with invalid_request. No OAuth
 *   error code means "conflict"; 409 tells the client that reading the client again (RFC 7592
 *   §2.1) and retrying will do, and its token stays valid.
 */
async function replaceIfUnchanged(
  policy: Policy,
  next: ClientRecord,
  read: ClientRecord,
  token: string,
): Promise<void> {
  if (await policy.store.replaceClient(next, read)) return;
  const current = await policy.store.findClient(read.clientId);
  if (!current || current.disabledAt !== undefined || !verifySecret(token, current.registrationAccessTokenHash))
    throw invalidRegistrationToken();
  throw new RegistrationError(
    'invalid_request',
    'The client was changed by a concurrent request; read it again and retry',
    { status: 409 },
  );
}

/**
 * RFC 7592 §2.1: read the current registration. No client secret is returned; it was only shown
 * once. RFC 7592 §3: the registration access token is, so the token that authenticated the request
 * is echoed (it was just verified against the stored hash; a read never rotates it).
 */
export async function readClient(policy: Policy, request: RawRequest, clientId: string): Promise<HttpResult> {
  const { record, token, address } = await authorize(policy, request, clientId);
  emitEvent(policy, { type: 'client.read', clientId, ip: address });
  return serializedJsonResult(200, clientReadJson(policy, record, request.url, token));
}

/** Members a client must not send on update (RFC 7592 §2.2). */
const FORBIDDEN_ON_UPDATE = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
];

/** RFC 7592 §2.2: replace the registration with the metadata sent; omitted fields reset to defaults. */
export async function updateClient(policy: Policy, raw: RawRequest, clientId: string): Promise<HttpResult> {
  const { record, token, address } = await authorize(policy, raw, clientId);
  // The hooks see the resolved client address, as at registration.
  const request = address === raw.remoteAddress ? raw : { ...raw, remoteAddress: address };
  const body = await readJsonObject(request, policy.maxBodyBytes);

  if (body.client_id !== clientId) {
    throw invalidMetadata('client_id in the body must match the client being updated (RFC 7592 §2.2)');
  }
  for (const field of FORBIDDEN_ON_UPDATE) {
    if (body[field] !== undefined) throw invalidMetadata(`${field} must not be sent in an update (RFC 7592 §2.2)`);
  }
  if (
    body.client_secret !== undefined &&
    (typeof body.client_secret !== 'string' || !isCurrentSecret(record, body.client_secret, policy.now()))
  ) {
    throw invalidMetadata('client_secret does not match the current client secret (RFC 7592 §2.2)');
  }
  const { record: next, clientSecret } = await acceptClientMetadata(policy, request, body, {
    // RFC 7592 §2.2: the client keeps the tier it registered in.
    admit: () => ({ via: record.registeredVia, by: record.registeredBy }),
    record: (metadata, _admission, now) => ({ ...record, metadata, updatedAt: now }),
  });
  let registrationAccessToken: string | undefined;
  if (policy.rotateRegistrationAccessToken) {
    registrationAccessToken = generateSecret();
    next.registrationAccessTokenHash = hashSecret(registrationAccessToken);
  }
  await replaceIfUnchanged(policy, next, record, token);
  emitEvent(policy, {
    type: 'client.updated',
    clientId,
    ip: address,
    detail: { rotated_token: registrationAccessToken !== undefined },
  });
  return jsonResult(200, clientInformation(policy, next, request.url, { clientSecret, registrationAccessToken }));
}

/** RFC 7592 §2.3: deprovision. 204 on success; afterwards the token reads as invalid. */
export async function deleteClient(policy: Policy, request: RawRequest, clientId: string): Promise<HttpResult> {
  const { address } = await authorize(policy, request, clientId);
  await policy.store.deleteClient(clientId);
  emitEvent(policy, { type: 'client.deleted', clientId, ip: address });
  return emptyResult(204);
}

/**
 * Extension (no RFC defines it): `POST {registration_client_uri}/secret` issues a new client
 * secret. The previous one stays valid for `secretRenewalOverlap` seconds so that running
 * instances of the client can pick up the new one without an outage.
 */
export async function renewClientSecret(policy: Policy, request: RawRequest, clientId: string): Promise<HttpResult> {
  const { record, token, address } = await authorize(policy, request, clientId);
  if (record.clientSecretHash === undefined) {
    throw invalidMetadata(
      `A client with token_endpoint_auth_method '${String(record.metadata.token_endpoint_auth_method)}' has no secret to renew`,
    );
  }
  const now = policy.now();
  const clientSecret = generateSecret();
  const next: ClientRecord = {
    ...record,
    clientSecretHash: hashSecret(clientSecret),
    clientSecretExpiresAt: clientSecretExpiresAt(policy, now),
    updatedAt: now,
  };
  delete next.previousSecretHash;
  delete next.previousSecretExpiresAt;
  if (policy.secretRenewalOverlap > 0) {
    next.previousSecretHash = record.clientSecretHash;
    const overlapEnd = now + policy.secretRenewalOverlap;
    // The old secret never outlives its own expiry.
    next.previousSecretExpiresAt =
      record.clientSecretExpiresAt > 0 ? Math.min(overlapEnd, record.clientSecretExpiresAt) : overlapEnd;
  }
  // Compare-and-set like an update: a renewal racing a PUT or another renewal either wins or
  // fails, so no 200 hands out a secret that a concurrent write has already replaced.
  await replaceIfUnchanged(policy, next, record, token);
  emitEvent(policy, { type: 'client.secret_renewed', clientId, ip: address });
  return jsonResult(200, clientInformation(policy, next, request.url, { clientSecret }));
}

import type { ClientMetadata } from '../core/client-metadata.js';
import { generateSecret, hashSecret } from '../core/secrets.js';
import { jsonResult, type HttpResult } from '../core/response.js';
import type { RawRequest } from '../core/request.js';
import { registrationFingerprint } from '../limits/deduplication.js';
import type { ClientRecord, RegistrationVia } from '../store/types.js';
import type { Admission } from './access.js';
import { clientInformation } from './client-response.js';
import { emitEvent } from './events.js';
import type { Policy } from './policy.js';
import type { VerifiedStatement } from './software-statement.js';

/** What one registration attempt has learnt so far, for its outcome's event and its record. */
export interface RegistrationAttempt {
  /** The resolved client address. */
  address: string | undefined;
  via?: RegistrationVia;
  by?: string;
  /** The de-duplication fingerprint of a public anonymous registration, when de-duplication is on. */
  fingerprint?: string;
  /** An identical registration within the window, to reuse instead of storing another client. */
  duplicateOf?: ClientRecord;
}

/**
 * The checks between valid metadata and a stored client, in order: the per-software rate limit
 * (the statement's issuer and software_id, or software_id alone), an earlier identical
 * registration to reuse (which adds no client, so it is looked for before the caps), and the caps.
 */
export async function checkAcceptedRegistration(
  policy: Policy,
  attempt: RegistrationAttempt,
  metadata: ClientMetadata,
  admission: Admission,
  statement: VerifiedStatement | undefined,
): Promise<void> {
  const softwareId = metadata.software_id;
  if (typeof softwareId === 'string' && softwareId !== '') {
    const key = statement ? `${statement.issuer}\n${softwareId}` : softwareId;
    const refusal = await policy.limits.registrationSoftware(key, attempt.address);
    if (refusal) throw refusal.error;
  }
  const dedup = policy.deduplicatePublicClients;
  // Only open registration is de-duplicated: tokens, principals and statements already say who is
  // asking, and each of their registrations is one the operator let in.
  if (dedup !== false && admission.via === 'anonymous') {
    attempt.fingerprint = registrationFingerprint({
      via: admission.via,
      by: admission.by,
      metadata: metadata as Record<string, unknown>,
      address: attempt.address,
    });
    if (attempt.fingerprint !== undefined) {
      const found = await policy.store.findClientByFingerprint(attempt.fingerprint, policy.now() - dedup.window);
      if (found && found.disabledAt === undefined) {
        attempt.duplicateOf = found;
        return;
      }
    }
  }
  await policy.limits.caps?.check(admission.via);
}

/**
 * Answers an identical re-registration with the client it already made: a new registration access
 * token replaces the old one (compare-and-set, so of two racing reuses one wins), and the answer is
 * a 201 like any registration (RFC 7591 §3.2.1). Null when the client changed or went meanwhile:
 * the caller then registers a new one.
 */
export async function reuseRegistration(
  policy: Policy,
  request: RawRequest,
  existing: ClientRecord,
  address: string | undefined,
): Promise<HttpResult | null> {
  const registrationAccessToken = generateSecret();
  const next: ClientRecord = {
    ...existing,
    registrationAccessTokenHash: hashSecret(registrationAccessToken),
    updatedAt: policy.now(),
  };
  if (!(await policy.store.replaceClient(next, existing))) return null;
  emitEvent(policy, {
    type: 'client.registered',
    clientId: next.clientId,
    actor: next.registeredBy ?? next.registeredVia,
    ip: address,
    detail: {
      via: next.registeredVia,
      client_name: next.metadata.client_name,
      redirect_uris: next.metadata.redirect_uris,
      deduplicated: true,
    },
  });
  return jsonResult(201, clientInformation(policy, next, request.url, { registrationAccessToken }));
}

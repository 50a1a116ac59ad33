import { randomUUID } from 'node:crypto';
import { isRegistrationError } from '../core/errors.js';
import type { RegistrationContext } from '../core/options.js';
import type { Policy } from './policy.js';
import { generateSecret, hashSecret } from '../core/secrets.js';
import type { ClientMetadata } from '../core/client-metadata.js';
import type { ClientRecord } from '../store/types.js';
import { admitRegistration, spendInitialAccessToken, type Admission } from './access.js';
import { clientInformation } from './client-response.js';
import { emitEvent } from './events.js';
import { LimitRefusalError } from '../limits/refusal.js';
import { checkAcceptedRegistration, reuseRegistration, type RegistrationAttempt } from './registration-guards.js';
import { acceptClientMetadata } from './metadata-sequence.js';
import { bearerToken, readJsonObject, type RawRequest } from '../core/request.js';
import { jsonResult, type HttpResult } from '../core/response.js';

/**
 * RFC 7591 §3.1-3.2: the client registration request, as a list of small steps.
 */
export async function registerClient(policy: Policy, raw: RawRequest): Promise<HttpResult> {
  // The client address, once (trustProxy): every limit, list, hook and event sees the same one.
  const address = policy.limits.clientAddress(raw.remoteAddress, raw.header('x-forwarded-for'));
  const request = address === raw.remoteAddress ? raw : { ...raw, remoteAddress: address };
  const attempt: RegistrationAttempt = { address };
  try {
    return await register(policy, request, attempt);
  } catch (error) {
    // Refusals are what abuse monitoring watches; each one is an event (never with the body),
    // with who asked, from where and in which tier when that is known. Rate-limit refusals are
    // the exception: the limits report the first of each window, so a flood stays one event.
    if (isRegistrationError(error) && !(error instanceof LimitRefusalError)) {
      const detail: Record<string, unknown> = { error: error.code, error_description: error.message };
      if (attempt.via !== undefined) detail.via = attempt.via;
      // The member at fault (RFC 6901), so the audit trail says where without keeping the body.
      if (error.pointer !== undefined) detail.pointer = error.pointer;
      emitEvent(policy, {
        type: 'registration.rejected',
        actor: attempt.by ?? attempt.via,
        ip: address,
        detail,
      });
    }
    throw error;
  }
}

async function register(policy: Policy, request: RawRequest, attempt: RegistrationAttempt): Promise<HttpResult> {
  const bearer = bearerToken(request);
  // Before the body is read: a flood from one address, or with one token, costs a counter each.
  const refusal = await policy.limits.registrationRequest({
    address: attempt.address,
    initialAccessTokenHash: bearer === undefined ? undefined : hashSecret(bearer),
  });
  if (refusal) throw refusal.error;
  const body = await readJsonObject(request, policy.maxBodyBytes);
  const { record, clientSecret, context } = await acceptClientMetadata(policy, request, body, {
    admit: async (statement) => {
      const admission = await admitRegistration(policy, request, bearer, statement?.issuer);
      attempt.via = admission.via;
      attempt.by = admission.by;
      return admission;
    },
    accepted: (metadata, admission, statement) =>
      checkAcceptedRegistration(policy, attempt, metadata, admission, statement),
    // The initial access token is spent only now that the metadata is valid: a refused request
    // does not burn a use.
    record: async (metadata, admission, now) =>
      draftClient(metadata, await spendInitialAccessToken(policy, admission), now, randomUUID()),
  });
  if (attempt.duplicateOf) {
    const reused = await reuseRegistration(policy, request, attempt.duplicateOf, attempt.address);
    if (reused) return reused;
    // The earlier client changed or went meanwhile: this registration gets a client of its own.
    await policy.limits.caps?.check(record.registeredVia);
  }
  attempt.by = record.registeredBy;
  if (attempt.fingerprint !== undefined) record.registrationFingerprint = attempt.fingerprint;
  const registrationAccessToken = generateSecret();
  record.registrationAccessTokenHash = hashSecret(registrationAccessToken);
  const stored = await runCreateHook(policy, record, context);
  await policy.store.insertClient(stored);
  policy.limits.caps?.registered(stored.registeredVia);

  emitEvent(policy, {
    type: 'client.registered',
    clientId: stored.clientId,
    actor: context.registeredBy ?? context.registeredVia,
    ip: attempt.address,
    detail: {
      via: context.registeredVia,
      client_name: stored.metadata.client_name,
      redirect_uris: stored.metadata.redirect_uris,
    },
  });
  // RFC 7591 §3.2.1: 201 Created with the client information.
  return jsonResult(201, clientInformation(policy, stored, request.url, { clientSecret, registrationAccessToken }));
}

/**
 * A new client's record; its secret is settled by the sequence, its token by the caller. The id
 * is drawn by the caller: a dry run (`validate()`) draws none.
 */
export function draftClient(
  metadata: ClientMetadata,
  admission: Admission,
  now: number,
  clientId: string,
): ClientRecord {
  const record: ClientRecord = {
    clientId,
    metadata,
    clientIdIssuedAt: now,
    clientSecretExpiresAt: 0,
    registeredVia: admission.via,
    createdAt: now,
    updatedAt: now,
  };
  if (admission.by !== undefined) record.registeredBy = admission.by;
  return record;
}

/** Runs the `createClient` hook, which may replace the record (e.g. a custom client_id) before it is stored. */
async function runCreateHook(policy: Policy, draft: ClientRecord, ctx: RegistrationContext): Promise<ClientRecord> {
  if (!policy.createClient) return draft;
  const replaced = await policy.createClient(draft, ctx);
  if (replaced && (typeof replaced.clientId !== 'string' || replaced.clientId.length === 0)) {
    throw new TypeError('oauth-dcr: createClient must return a record with a clientId');
  }
  return replaced ?? draft;
}

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
import { acceptClientMetadata } from './metadata-sequence.js';
import { bearerToken, readJsonObject, type RawRequest } from '../core/request.js';
import { jsonResult, type HttpResult } from '../core/response.js';

/**
 * RFC 7591 §3.1-3.2: the client registration request, as a list of small steps.
 */
export async function registerClient(policy: Policy, request: RawRequest): Promise<HttpResult> {
  try {
    return await register(policy, request);
  } catch (error) {
    // Refusals are what abuse monitoring watches; each one is an event (never with the body).
    if (isRegistrationError(error)) {
      emitEvent(policy, {
        type: 'registration.rejected',
        ip: request.remoteAddress,
        detail: { error: error.code, error_description: error.message },
      });
    }
    throw error;
  }
}

async function register(policy: Policy, request: RawRequest): Promise<HttpResult> {
  const body = await readJsonObject(request, policy.maxBodyBytes);
  const { record, clientSecret, context } = await acceptClientMetadata(policy, request, body, {
    admit: (statement) => admitRegistration(policy, request, bearerToken(request), statement?.issuer),
    // The initial access token is spent only now that the metadata is valid: a refused request
    // does not burn a use.
    record: async (metadata, admission, now) =>
      draftClient(metadata, await spendInitialAccessToken(policy, admission), now),
  });
  const registrationAccessToken = generateSecret();
  record.registrationAccessTokenHash = hashSecret(registrationAccessToken);
  const stored = await runCreateHook(policy, record, context);
  await policy.store.insertClient(stored);

  emitEvent(policy, {
    type: 'client.registered',
    clientId: stored.clientId,
    actor: context.registeredBy ?? context.registeredVia,
    ip: request.remoteAddress,
    detail: {
      via: context.registeredVia,
      client_name: stored.metadata.client_name,
      redirect_uris: stored.metadata.redirect_uris,
    },
  });
  // RFC 7591 §3.2.1: 201 Created with the client information.
  return jsonResult(201, clientInformation(policy, stored, request.url, { clientSecret, registrationAccessToken }));
}

/** A new client's record; its secret is settled by the sequence, its token by the caller. */
function draftClient(metadata: ClientMetadata, admission: Admission, now: number): ClientRecord {
  const record: ClientRecord = {
    clientId: randomUUID(),
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

import { randomUUID } from 'node:crypto';
import { RegistrationError, isRegistrationError } from '../core/errors.js';
import { validateClientMetadata } from '../metadata/validate.js';
import type { RegistrationContext } from '../core/options.js';
import type { Policy } from './policy.js';
import { generateSecret, hashSecret } from '../core/secrets.js';
import type { ClientMetadata, ClientRecord } from '../store/types.js';
import { admitRegistration, spendInitialAccessToken, type Admission } from './access.js';
import { clientInformation, needsClientSecret } from './client-response.js';
import { emitEvent } from './events.js';
import { mergeStatement, type VerifiedStatement } from './software-statement.js';
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
  const statement = await verifySoftwareStatement(policy, body);
  const admission = await admitRegistration(policy, request, bearerToken(request), statement?.issuer);
  const ctx: RegistrationContext = { ...contextOf(request), registeredVia: admission.via, registeredBy: admission.by };

  const validated = await validateClientMetadata(statement ? mergeStatement(body, statement) : body, policy, policy.tiers[admission.via]);
  // RFC 7591 §3.2.1: a statement used in the registration is returned unmodified.
  if (statement) validated.software_statement = body.software_statement;
  const metadata = await runValidateHook(policy, validated, ctx);
  const admitted = await spendInitialAccessToken(policy, admission);
  ctx.registeredVia = admitted.via;
  ctx.registeredBy = admitted.by;

  const { record, clientSecret, registrationAccessToken } = draftClient(policy, metadata, admitted);
  const stored = await runCreateHook(policy, record, ctx);
  await policy.store.insertClient(stored);

  emitEvent(policy, {
    type: 'client.registered',
    clientId: stored.clientId,
    actor: admitted.by ?? admitted.via,
    ip: request.remoteAddress,
    detail: { via: admitted.via, client_name: stored.metadata.client_name, redirect_uris: stored.metadata.redirect_uris },
  });
  // RFC 7591 §3.2.1: 201 Created with the client information.
  return jsonResult(201, clientInformation(policy, stored, request.url, { clientSecret, registrationAccessToken }));
}

/**
 * RFC 7591 §2.3 / §3.1.1: verifies a statement when one is sent; with `required`, a registration
 * without one is refused. Without trusted issuers the verifier trusts nobody, so a well-formed
 * statement is unapproved and a malformed one invalid (§3.2.2), as with issuers configured.
 */
export async function verifySoftwareStatement(policy: Policy, body: Record<string, unknown>): Promise<VerifiedStatement | undefined> {
  const statement = body.software_statement;
  if (statement === undefined || statement === null) {
    if (policy.statements.required) throw new RegistrationError('invalid_software_statement', 'A software statement is required to register');
    return undefined;
  }
  return policy.statements.verify(statement);
}

export function contextOf(request: RawRequest): RegistrationContext {
  return {
    method: request.method,
    url: request.url,
    remoteAddress: request.remoteAddress,
    header: (name) => request.header(name),
    registeredVia: 'anonymous',
  };
}

export function draftClient(
  policy: Policy,
  metadata: ClientMetadata,
  admission: Admission,
): { record: ClientRecord; clientSecret?: string; registrationAccessToken: string } {
  const now = policy.now();
  const clientSecret = needsClientSecret(metadata.token_endpoint_auth_method) ? generateSecret() : undefined;
  const registrationAccessToken = generateSecret();
  const record: ClientRecord = {
    clientId: randomUUID(),
    metadata,
    clientIdIssuedAt: now,
    clientSecretExpiresAt: clientSecret !== undefined && policy.clientSecretTtl > 0 ? now + policy.clientSecretTtl : 0,
    registrationAccessTokenHash: hashSecret(registrationAccessToken),
    registeredVia: admission.via,
    createdAt: now,
    updatedAt: now,
  };
  if (clientSecret !== undefined) record.clientSecretHash = hashSecret(clientSecret);
  if (admission.by !== undefined) record.registeredBy = admission.by;
  return { record, clientSecret, registrationAccessToken };
}

/** Seed: `_validate_client_metadata`. A RegistrationError thrown here reaches the client as is. */
export async function runValidateHook(policy: Policy, metadata: ClientMetadata, ctx: RegistrationContext): Promise<ClientMetadata> {
  if (!policy.validateMetadata) return metadata;
  const replaced = await policy.validateMetadata(metadata, ctx);
  return replaced ?? metadata;
}

/** Seed: `_create_application`. May replace the record (e.g. a custom client_id) before it is stored. */
async function runCreateHook(policy: Policy, draft: ClientRecord, ctx: RegistrationContext): Promise<ClientRecord> {
  if (!policy.createClient) return draft;
  const replaced = await policy.createClient(draft, ctx);
  if (replaced && (typeof replaced.clientId !== 'string' || replaced.clientId.length === 0)) {
    throw new TypeError('oauth-dcr: createClient must return a record with a clientId');
  }
  return replaced ?? draft;
}

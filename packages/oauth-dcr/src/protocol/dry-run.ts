import { isRegistrationError, invalidMetadata, type RegistrationErrorCode } from '../core/errors.js';
import type { ClientMetadata } from '../core/client-metadata.js';
import { readJsonObject, type RawRequest } from '../core/request.js';
import type { RegistrationVia } from '../store/types.js';
import type { Admission } from './access.js';
import { clientSecretExpiresAt, needsClientSecret } from './client-secret.js';
import { clientInformation } from './client-response.js';
import { describeChanges, type MetadataChange } from './dry-run-changes.js';
import { acceptClientMetadata } from './metadata-sequence.js';
import type { Policy } from './policy.js';
import { draftClient } from './register.js';

export type { MetadataChange } from './dry-run-changes.js';

/** How `validate()` judges the metadata. */
export interface ValidateOptions {
  /**
   * The tier whose ceilings (grant types, scopes) apply, as if the registration had been admitted
   * that way: `initial_access_token`, `authenticated`, `admin`, ... Default: what a request
   * without credentials gets, `software_statement` when the metadata holds a statement this
   * server verifies, else `anonymous`.
   */
  tier?: RegistrationVia;
  /** Who that admission would name (a principal, an initial access token id), for the hooks. */
  registeredBy?: string;
}

/** What `validate()` found: what a registration would answer and store, or its refusal. */
export type ValidationResult = ValidRegistration | RefusedRegistration;

export interface ValidRegistration {
  valid: true;
  /** The tier the metadata was held to. */
  tier: RegistrationVia;
  /**
   * The client information response a registration would answer (RFC 7591 §3.2.1), without what
   * only a real registration draws: client_id, client_id_issued_at, client_secret,
   * registration_access_token and registration_client_uri. `client_secret_expires_at` is there
   * when a secret would be issued.
   */
  metadata: Record<string, unknown>;
  /** What the store would be given (before a `createClient` hook, which a dry run does not run). */
  stored: {
    metadata: ClientMetadata;
    registeredVia: RegistrationVia;
    registeredBy?: string;
    /** Whether a client secret would be issued (its hash stored, its plaintext shown once). */
    clientSecret: boolean;
    /** RFC 7591 §3.2.1 `client_secret_expires_at`, as a registration now would set it; 0 without a secret. */
    clientSecretExpiresAt: number;
  };
  /** Each member the server would add, drop or replace, and why. */
  changes: MetadataChange[];
}

export interface RefusedRegistration {
  valid: false;
  /** The tier the metadata was held to, when the refusal came after it was known. */
  tier?: RegistrationVia;
  /** The error the endpoint would answer (RFC 7591 §3.2.2), with its HTTP status and the pointer. */
  error: {
    error: RegistrationErrorCode;
    error_description: string;
    status: number;
    /** RFC 6901 JSON Pointer to the member at fault in the metadata as sent (`/redirect_uris/1`). */
    pointer?: string;
  };
}

/**
 * The registration request's metadata sequence (RFC 7591 §3.1-3.2) run as a dry run: the same
 * JSON reading, software statement verification (its issuer's keys may be fetched through
 * safe-fetch, as at the endpoint), tier ceilings, metadata rules and `validateMetadata` hook. It
 * leaves out what only a real registration does: no rate limit or cap is counted, no
 * de-duplication looked up, no initial access token spent, no id, secret or token drawn, no
 * `createClient` hook run (it exists to store or replace what is stored), nothing stored and no
 * event emitted.
 *
 * A fault that is not a refusal (a hook's bug) is thrown: the endpoint would answer it with a
 * 500 server_error.
 */
export async function validateRegistration(
  policy: Policy,
  metadata: unknown,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const requestedTier = options.tier;
  if (
    requestedTier !== undefined &&
    (!Object.hasOwn(policy.tiers, requestedTier) || requestedTier === 'metadata_document')
  ) {
    // Client ID Metadata Documents are not registered: they are validated when looked up.
    const tiers = Object.keys(policy.tiers).filter((tier) => tier !== 'metadata_document');
    throw new TypeError(
      `oauth-dcr: validate: unknown tier ${JSON.stringify(requestedTier)} (known: ${tiers.join(', ')})`,
    );
  }
  let tier: RegistrationVia | undefined = requestedTier;
  try {
    const url = registrationUrl(policy);
    const request = dryRunRequest(url, metadata);
    const body = await readJsonObject(request, policy.maxBodyBytes);
    // The operator vouches for an `admin` client: statements are not required of it (as for
    // `clients create`), though one given is still verified.
    const sequencePolicy: Policy =
      requestedTier === 'admin'
        ? { ...policy, statements: { required: false, verify: policy.statements.verify } }
        : policy;
    let issuesSecret = false;
    const accepted = await acceptClientMetadata(sequencePolicy, request, body, {
      admit: (statement): Admission => {
        const via = requestedTier ?? (statement ? 'software_statement' : 'anonymous');
        tier = via;
        const by = options.registeredBy ?? (requestedTier === undefined ? statement?.issuer : undefined);
        return by === undefined ? { via } : { via, by };
      },
      record: (accepted, admission, now) => draftClient(accepted, admission, now, ''),
      // The rules of settleClientSecret for a new client, without drawing the secret.
      settle: (record, now) => {
        issuesSecret = needsClientSecret(record.metadata.token_endpoint_auth_method);
        record.clientSecretExpiresAt = issuesSecret ? clientSecretExpiresAt(policy, now) : 0;
        return undefined;
      },
    });
    const { record } = accepted;
    const echo = clientInformation(policy, record, url, issuesSecret ? { clientSecret: '' } : {});
    for (const drawn of ['client_id', 'client_id_issued_at', 'client_secret']) delete echo[drawn];
    const stored: ValidRegistration['stored'] = {
      metadata: { ...record.metadata },
      registeredVia: record.registeredVia,
      clientSecret: issuesSecret,
      clientSecretExpiresAt: record.clientSecretExpiresAt,
    };
    if (record.registeredBy !== undefined) stored.registeredBy = record.registeredBy;
    const changes = describeChanges(body, echo, accepted.statement);
    return { valid: true, tier: record.registeredVia, metadata: echo, stored, changes };
  } catch (error) {
    if (!isRegistrationError(error)) throw error;
    const refusal: RefusedRegistration['error'] = {
      error: error.code,
      error_description: error.message,
      status: error.status,
    };
    if (error.pointer !== undefined) refusal.pointer = error.pointer;
    return tier === undefined ? { valid: false, error: refusal } : { valid: false, tier, error: refusal };
  }
}

/** The registration endpoint's URL, as the hooks would see it (no request gives a host here). */
function registrationUrl(policy: Policy): string {
  const base = policy.issuer ?? 'http://localhost';
  return `${base}${policy.registrationPath === '/' ? '' : policy.registrationPath}`;
}

/**
 * The metadata as the body of a registration request, so it is read by the endpoint's own JSON
 * reader: a string is the body as sent; anything else is sent as JSON would carry it.
 */
function dryRunRequest(url: string, metadata: unknown): RawRequest {
  let text: string | undefined;
  if (typeof metadata === 'string') text = metadata;
  else {
    try {
      text = JSON.stringify(metadata);
    } catch (error) {
      throw invalidMetadata(`Client metadata must be JSON: ${(error as Error).message}`);
    }
  }
  const bytes = new TextEncoder().encode(text ?? '');
  return {
    method: 'POST',
    url,
    header: (name) => (name.toLowerCase() === 'content-type' ? 'application/json' : undefined),
    body: (async function* () {
      yield bytes;
    })(),
  };
}

import { RegistrationError, atPointer, isRegistrationError } from '../core/errors.js';
import type { RegistrationContext } from '../core/options.js';
import type { RawRequest } from '../core/request.js';
import { validateClientMetadata } from '../metadata/validate.js';
import type { ClientMetadata } from '../core/client-metadata.js';
import type { ClientRecord } from '../store/types.js';
import type { Admission } from './access.js';
import { settleClientSecret } from './client-secret.js';
import type { Policy } from './policy.js';
import { mergeStatement, type VerifiedStatement } from './software-statement.js';

/** Where registration (RFC 7591 §3.1) and update (RFC 7592 §2.2) differ inside the sequence. */
export interface MetadataSequenceSteps {
  /**
   * Who is asking, which decides the tier the metadata is held to. Registration admits the
   * request (a verified statement can be what admits it); an update keeps the client's tier.
   */
  admit(statement: VerifiedStatement | undefined): Promise<Admission> | Admission;
  /**
   * Checks on the accepted metadata before anything is spent or stored (registration: the
   * per-software rate limit, the caps, de-duplication); throws to refuse.
   */
  accepted?(metadata: ClientMetadata, admission: Admission, statement: VerifiedStatement | undefined): Promise<void>;
  /** The record the accepted metadata goes into: a new client's draft, or the stored client changed. */
  record(metadata: ClientMetadata, admission: Admission, now: number): Promise<ClientRecord> | ClientRecord;
  /**
   * Settles the record's secret state; resolves the plaintext of a secret issued now. Default
   * `settleClientSecret`. A dry run (`validate()`) applies the same rules without drawing a secret.
   */
  settle?(record: ClientRecord, now: number): string | undefined;
}

export interface AcceptedClient {
  /** The record to store, its secret state settled. */
  record: ClientRecord;
  /** The plaintext of a secret issued by this request, shown once (RFC 7591 §3.2.1). */
  clientSecret: string | undefined;
  /** What the hooks were told; its tier is the recorded one. */
  context: RegistrationContext;
  /** The verified software statement whose claims took precedence over the body's, if one was sent. */
  statement: VerifiedStatement | undefined;
}

/**
 * The one sequence that registration and update share, in this order:
 * 1. the software statement (RFC 7591 §2.3), verified;
 * 2. who is asking (`steps.admit`);
 * 3. validation against the tier, the statement's claims taking precedence over the body's (§2.3);
 * 4. the host's `validateMetadata` hook (the seed's `_validate_client_metadata`);
 * 5. the checks on the accepted metadata (`steps.accepted`);
 * 6. the record (`steps.record`) and its secret state (`settleClientSecret`).
 */
export async function acceptClientMetadata(
  policy: Policy,
  request: RawRequest,
  body: Record<string, unknown>,
  steps: MetadataSequenceSteps,
): Promise<AcceptedClient> {
  const statement = await atPointer('/software_statement', () => verifySoftwareStatement(policy, body));
  const admission = await steps.admit(statement);
  const context = contextOf(request, admission);

  const validated = await validateClientMetadata(
    statement ? mergeStatement(body, statement) : body,
    policy,
    policy.tiers[admission.via],
  ).catch((error: unknown) => {
    throw statement ? pointIntoStatement(error, statement) : error;
  });
  // RFC 7591 §3.2.1: a statement used in the registration is returned unmodified (verified, so a string).
  if (statement && typeof body.software_statement === 'string') validated.software_statement = body.software_statement;
  const metadata = await runValidateHook(policy, validated, context);
  if (steps.accepted) await steps.accepted(metadata, admission, statement);

  const now = policy.now();
  const record = await steps.record(metadata, admission, now);
  context.registeredVia = record.registeredVia;
  context.registeredBy = record.registeredBy;
  const clientSecret = steps.settle ? steps.settle(record, now) : settleClientSecret(policy, record, now);
  return { record, clientSecret, context, statement };
}

/**
 * A pointer is into the metadata as sent: a field the statement's claims supplied (RFC 7591 §2.3,
 * they take precedence over the body's) is inside the statement, so the pointer names it.
 */
function pointIntoStatement(error: unknown, statement: VerifiedStatement): unknown {
  if (!isRegistrationError(error) || error.pointer === undefined || error.pointer === '') return error;
  const member = error.pointer.slice(1).split('/', 1)[0]!.replace(/~1/g, '/').replace(/~0/g, '~');
  if (Object.hasOwn(statement.claims, member)) {
    (error as { pointer: string | undefined }).pointer = '/software_statement';
  }
  return error;
}

/**
 * RFC 7591 §2.3 / §3.1.1: verifies a statement when one is sent; with `required`, a request
 * without one is refused. Without trusted issuers the verifier trusts nobody, so a well-formed
 * statement is unapproved and a malformed one invalid (§3.2.2), as with issuers configured.
 */
async function verifySoftwareStatement(
  policy: Policy,
  body: Record<string, unknown>,
): Promise<VerifiedStatement | undefined> {
  const statement = body.software_statement;
  if (statement === undefined || statement === null) {
    if (policy.statements.required)
      throw new RegistrationError('invalid_software_statement', 'A software statement is required to register');
    return undefined;
  }
  return policy.statements.verify(statement);
}

function contextOf(request: RawRequest, admission: Admission): RegistrationContext {
  return {
    method: request.method,
    url: request.url,
    remoteAddress: request.remoteAddress,
    header: (name) => request.header(name),
    registeredVia: admission.via,
    registeredBy: admission.by,
  };
}

/** Runs the `validateMetadata` hook. A RegistrationError thrown there reaches the client as is. */
async function runValidateHook(
  policy: Policy,
  metadata: ClientMetadata,
  context: RegistrationContext,
): Promise<ClientMetadata> {
  if (!policy.validateMetadata) return metadata;
  const replaced = await policy.validateMetadata(metadata, context);
  return replaced ?? metadata;
}

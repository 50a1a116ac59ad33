import { randomUUID } from 'node:crypto';
import type { ClientMetadata } from '../core/client-metadata.js';
import { invalidMetadata } from '../core/errors.js';
import type { RawRequest } from '../core/request.js';
import type { ClientRecord } from '../store/types.js';
import { clientInformation } from './client-response.js';
import { normalizeClientRights } from './client-rights.js';
import { emitEvent } from './events.js';
import { acceptClientMetadata } from './metadata-sequence.js';
import type { Policy } from './policy.js';

/** What an operator gives to create a client. */
export interface OperatorClientInput {
  /** RFC 7591 §2 client metadata, validated as a registration's is (the `admin` tier's ceilings). */
  metadata: ClientMetadata;
  /**
   * Rights such as `introspection` or `introspection=https://mcp.example/|https://other.example/`
   * (see ClientRecord.grantedRights); refused with invalid_client_metadata when malformed.
   */
  rights?: string[];
  /** Who acts, for the audit trail (an operator's name). Default `operator`. */
  actor?: string;
}

/** A client an operator created, with its credentials shown once. */
export interface CreatedClient {
  client: ClientRecord;
  /**
   * The RFC 7591 §3.2.1 client information response, as a registration would echo it, with the
   * client secret (when its auth method has one) shown this once. No registration access token:
   * an operator's client is managed by operators (CLI, admin page), not through RFC 7592.
   */
  information: Record<string, unknown>;
}

/**
 * Operator actions on clients (CLI and admin page). Each is an audit event with the actor; hosts
 * revoke the client's tokens and codes on `client.disabled` and `client.deleted`.
 */
export interface ClientOperator {
  /** Creates a client in the `admin` tier; a RegistrationError says what is wrong with the metadata. */
  create(input: OperatorClientInput): Promise<CreatedClient>;
  /** Disables the client (it resolves to nothing until enabled); false when there is no such client. */
  disable(clientId: string, actor?: string): Promise<boolean>;
  /** Enables a disabled client again; false when there is no such client. */
  enable(clientId: string, actor?: string): Promise<boolean>;
  /** Deletes the client; false when there was none. */
  delete(clientId: string, actor?: string): Promise<boolean>;
}

const DEFAULT_ACTOR = 'operator';

export function createClientOperator(policy: Policy): ClientOperator {
  return {
    create: (input) => createOperatorClient(policy, input),

    async disable(clientId, actor = DEFAULT_ACTOR) {
      const client = await policy.store.findClient(clientId);
      if (!client) return false;
      // Already disabled: keep the first time, and record no second event.
      if (client.disabledAt !== undefined) return true;
      if (!(await policy.store.setClientDisabled(clientId, policy.now()))) return false;
      emitEvent(policy, { type: 'client.disabled', clientId, actor });
      return true;
    },

    async enable(clientId, actor = DEFAULT_ACTOR) {
      const client = await policy.store.findClient(clientId);
      if (!client) return false;
      if (client.disabledAt === undefined) return true;
      if (!(await policy.store.setClientDisabled(clientId, null))) return false;
      emitEvent(policy, { type: 'client.enabled', clientId, actor });
      return true;
    },

    async delete(clientId, actor = DEFAULT_ACTOR) {
      if (!(await policy.store.deleteClient(clientId))) return false;
      // The same event as an RFC 7592 §2.3 delete: hosts already revoke a deleted client's tokens on it.
      emitEvent(policy, { type: 'client.deleted', clientId, actor, detail: { via: 'admin' } });
      return true;
    },
  };
}

/**
 * The operator's client goes through the same metadata sequence as a registration (RFC 7591 §2
 * rules, the `admin` tier's grant and scope ceilings, the host's validateMetadata hook, the secret
 * settled by its auth method), then the host's createClient hook, as a registration's would.
 */
async function createOperatorClient(policy: Policy, input: OperatorClientInput): Promise<CreatedClient> {
  const actor = input.actor ?? DEFAULT_ACTOR;
  if (typeof input.metadata !== 'object' || input.metadata === null || Array.isArray(input.metadata)) {
    throw invalidMetadata('Client metadata must be an object');
  }
  const rights = normalizeClientRights(input.rights ?? []);
  // A plain copy: whatever object the caller built (prototypes, getters) is read once, as JSON.
  const body = JSON.parse(JSON.stringify(input.metadata)) as Record<string, unknown>;
  // A deployment that requires software statements requires them of self-registering clients;
  // the operator vouches for this one (a statement given is still verified).
  const operatorPolicy: Policy = { ...policy, statements: { required: false, verify: policy.statements.verify } };
  const { record, clientSecret, context } = await acceptClientMetadata(operatorPolicy, operatorRequest(policy), body, {
    admit: () => ({ via: 'admin', by: actor }),
    record: (metadata, _admission, now) => draftOperatorClient(metadata, actor, rights, now),
  });
  // A copy: a hook may hand back a frozen record.
  const stored: ClientRecord = { ...((await policy.createClient?.(record, context)) ?? record) };
  if (typeof stored.clientId !== 'string' || stored.clientId.length === 0) {
    throw new TypeError('oauth-dcr: createClient must return a record with a clientId');
  }
  // Rights come from the operator alone, whatever a hook returned.
  if (rights.length > 0) stored.grantedRights = rights;
  else delete stored.grantedRights;
  await policy.store.insertClient(stored);
  emitEvent(policy, {
    type: 'client.registered',
    clientId: stored.clientId,
    actor,
    detail: {
      via: 'admin',
      client_name: stored.metadata.client_name,
      redirect_uris: stored.metadata.redirect_uris,
      ...(rights.length > 0 ? { rights } : {}),
    },
  });
  const information = clientInformation(policy, stored, operatorRequest(policy).url, { clientSecret });
  return { client: (await policy.store.findClient(stored.clientId)) ?? stored, information };
}

function draftOperatorClient(metadata: ClientMetadata, actor: string, rights: string[], now: number): ClientRecord {
  const record: ClientRecord = {
    clientId: randomUUID(),
    metadata,
    clientIdIssuedAt: now,
    clientSecretExpiresAt: 0,
    registeredVia: 'admin',
    registeredBy: actor,
    createdAt: now,
    updatedAt: now,
  };
  if (rights.length > 0) record.grantedRights = rights;
  return record;
}

/**
 * What the hooks see as the request: no HTTP request carries an operator's action, so there are
 * no headers and no address, and the URL is the registration endpoint's.
 */
function operatorRequest(policy: Policy): RawRequest {
  const base = policy.issuer ?? 'http://localhost';
  return {
    method: 'POST',
    url: `${base}${policy.registrationPath === '/' ? '' : policy.registrationPath}`,
    header: () => undefined,
    body: null,
  };
}

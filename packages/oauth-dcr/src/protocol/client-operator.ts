import type { ClientMetadata } from '../core/client-metadata.js';
import type { ClientRecord } from '../store/types.js';
import type { Policy } from './policy.js';

/** What an operator gives to create a client. */
export interface OperatorClientInput {
  metadata: ClientMetadata;
  /** Rights such as 'introspection' (see ClientRecord.grantedRights). */
  rights?: string[];
  /** Who acts, for the audit trail (an operator's name). */
  actor?: string;
}

/** A client an operator created, with its credentials shown once. */
export interface CreatedClient {
  client: ClientRecord;
  /** The RFC 7591 §3.2.1 client information response, as a registration would echo it. */
  information: Record<string, unknown>;
}

/**
 * Operator actions on clients (CLI and admin page). Each is an audit event; delete and disable
 * emit events that hosts use to revoke the client's tokens and codes.
 */
export interface ClientOperator {
  create(input: OperatorClientInput): Promise<CreatedClient>;
  disable(clientId: string, actor?: string): Promise<boolean>;
  enable(clientId: string, actor?: string): Promise<boolean>;
  delete(clientId: string, actor?: string): Promise<boolean>;
}

/** SCAFFOLD: replaced by the operator-tools work. */
export function createClientOperator(_policy: Policy): ClientOperator {
  const missing = async (): Promise<never> => {
    throw new Error('oauth-dcr: operator actions are not built yet');
  };
  return { create: missing, disable: missing, enable: missing, delete: missing };
}

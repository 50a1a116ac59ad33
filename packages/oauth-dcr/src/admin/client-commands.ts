import { isRegistrationError } from '../core/errors.js';
import { createRegistration, type Registration } from '../protocol/create-registration.js';
import type { ClientRecord, ClientStore } from '../store/types.js';
import {
  type AdminCommandInput,
  CommandFailure,
  commandLineActor,
  type Output,
  UsageError,
  withStore,
} from './command-input.js';
import { formatTime, printable, printTable } from './table.js';

/**
 * `oauth-dcr clients list|show|create|disable|enable|delete`. They work on oauth-dcr's tables
 * alone: a host that keeps tokens elsewhere (the reference server does) refuses a disabled or
 * deleted client's codes and tokens when they are used, since its client look-up finds nothing.
 */
export async function runClientCommand(input: AdminCommandInput, sub: string | undefined, id?: string): Promise<void> {
  switch (sub) {
    case 'list':
      return withStore(input, (store) => listClients(store.clients, input.output));
    case 'show':
      return withStore(input, (store) => showClient(store.clients, needId(sub, id), input));
    case 'create': {
      // Refused before any database is opened.
      const request = operatorClientRequest(input);
      return withStore(input, (store) => createClient(operatorRegistration(store.clients), request, input));
    }
    case 'disable':
    case 'enable':
    case 'delete': {
      const clientId = needId(sub, id);
      return withStore(input, async (store) => {
        const operator = operatorRegistration(store.clients).operator;
        const done = await operator[sub](clientId, commandLineActor(input.env));
        if (!done) throw new CommandFailure(`no client with id ${clientId}`);
        input.output.out(`${sub === 'delete' ? 'deleted' : `${sub}d`} ${clientId}`);
      });
    }
    default:
      throw new UsageError('clients needs list, show, create, disable, enable or delete');
  }
}

function needId(sub: string, id: string | undefined): string {
  if (!id) throw new UsageError(`clients ${sub} needs the client id (see oauth-dcr clients list)`);
  return id;
}

/** The grant types an operator's own clients may have (`clients create`, `validate --tier admin`). */
export const OPERATOR_GRANT_TYPES: readonly string[] = ['authorization_code', 'refresh_token', 'client_credentials'];

/**
 * The registration endpoint as the command line uses it: the store, its audit trail persisted,
 * and, for the operator's own clients, the service grant (client_credentials) besides the
 * defaults. Implicit and password stay out (RFC 9700 §2.1.2, §2.4).
 */
function operatorRegistration(store: ClientStore): Registration {
  return createRegistration({
    store,
    persistAuditEvents: true,
    onError: () => {},
    tiers: { admin: { allowedGrantTypes: [...OPERATOR_GRANT_TYPES] } },
  });
}

interface OperatorClientRequest {
  metadata: Record<string, unknown>;
  rights: string[];
}

function operatorClientRequest(input: AdminCommandInput): OperatorClientRequest {
  const { flags } = input;
  if (!flags.name) throw new UsageError('clients create needs --name');
  const grants = flags['grant-type'];
  const redirectUris = flags['redirect-uri'] ?? [];
  const metadata: Record<string, unknown> = { client_name: flags.name };
  // A service client (client_credentials alone) has no redirect URI and no response type (RFC 7591 §2.1).
  if (redirectUris.length > 0) metadata.redirect_uris = redirectUris;
  if (grants !== undefined) {
    metadata.grant_types = grants;
    if (!grants.includes('authorization_code')) metadata.response_types = [];
  }
  if (redirectUris.length === 0 && !grants?.length)
    throw new UsageError(
      'clients create needs --redirect-uri, or --grant-type client_credentials for a service client',
    );
  if (flags['auth-method'] !== undefined) metadata.token_endpoint_auth_method = flags['auth-method'];
  if (flags.scope !== undefined) metadata.scope = flags.scope;
  return { metadata, rights: flags.right ?? [] };
}

async function createClient(
  registration: Registration,
  request: OperatorClientRequest,
  input: AdminCommandInput,
): Promise<void> {
  let created;
  try {
    created = await registration.operator.create({ ...request, actor: commandLineActor(input.env) });
  } catch (error) {
    // The registration rules' refusal, in their words (RFC 7591 §3.2.2 code and description).
    if (isRegistrationError(error)) throw new CommandFailure(`${error.code}: ${error.message}`);
    throw error;
  }
  const { information, client } = created;
  if (input.flags.json) {
    input.output.out(
      JSON.stringify({ ...information, ...(client.grantedRights ? { rights: client.grantedRights } : {}) }),
    );
    return;
  }
  input.output.out(`client_id: ${client.clientId}`);
  if (typeof information.client_secret === 'string') {
    input.output.out(`client_secret (shown once, keep it secret): ${information.client_secret}`);
  }
  input.output.out(`tier: admin  auth method: ${String(client.metadata.token_endpoint_auth_method)}`);
  if (client.grantedRights) input.output.out(`rights: ${client.grantedRights.join(' ')}`);
}

async function showClient(store: ClientStore, clientId: string, input: AdminCommandInput): Promise<void> {
  const client = await store.findClient(clientId);
  if (!client) throw new CommandFailure(`no client with id ${clientId}`);
  const view = clientView(client);
  if (input.flags.json) {
    input.output.out(JSON.stringify(view));
    return;
  }
  const { metadata, ...facts } = view;
  for (const [key, value] of Object.entries(facts)) input.output.out(`${key}: ${printable(String(value))}`);
  input.output.out('metadata:');
  for (const line of JSON.stringify(metadata, null, 2).split('\n')) input.output.out(`  ${printable(line)}`);
}

/** Everything about a client but its secrets and their hashes. */
function clientView(client: ClientRecord): Record<string, unknown> & { metadata: unknown } {
  return {
    client_id: client.clientId,
    tier: client.registeredVia,
    registered_by: client.registeredBy ?? '',
    created: formatTime(client.createdAt),
    updated: formatTime(client.updatedAt),
    last_used: formatTime(client.lastUsedAt),
    disabled: client.disabledAt === undefined ? 'no' : formatTime(client.disabledAt),
    client_secret: client.clientSecretHash === undefined ? 'none' : secretExpiry(client.clientSecretExpiresAt),
    registration_access_token: client.registrationAccessTokenHash === undefined ? 'none' : 'issued',
    rights: (client.grantedRights ?? []).join(' '),
    metadata: client.metadata,
  };
}

function secretExpiry(expiresAt: number): string {
  return expiresAt === 0 ? 'issued, never expires' : `issued, expires ${formatTime(expiresAt)}`;
}

/** Pages through the clients: a deployment may have more than one query should return. */
async function listClients(store: ClientStore, output: Output): Promise<void> {
  const pageSize = 500;
  const rows: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const page: ClientRecord[] = await store.listClients({ limit: pageSize, ...(after ? { after } : {}) });
    for (const client of page) {
      rows.push([
        client.clientId,
        typeof client.metadata.client_name === 'string' ? client.metadata.client_name : '',
        client.registeredVia,
        formatTime(client.createdAt),
        formatTime(client.lastUsedAt),
        client.disabledAt === undefined ? '' : 'disabled',
      ]);
    }
    if (page.length < pageSize) break;
    after = page[page.length - 1]!.clientId;
  }
  if (rows.length === 0) {
    output.out('no clients registered');
    return;
  }
  printTable(output, ['CLIENT ID', 'NAME', 'TIER', 'CREATED', 'LAST USED', 'DISABLED'], rows);
}

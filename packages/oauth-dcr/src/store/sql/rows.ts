import type { Insertable, Selectable } from 'kysely';
import type {
  AuditEvent,
  AuditEventType,
  ClientRecord,
  InitialAccessTokenRecord,
  RegistrationVia,
  StoredAuditEvent,
} from '../types.js';
import type { AuditEventsTable, ClientsTable, InitialAccessTokensTable } from './schema.js';

/*
 * Conversions between records and rows. Absent optional fields are stored as NULL and come back
 * absent (never `null` or `undefined` properties), as the wire rules require for echoed metadata.
 */

export function clientToRow(record: ClientRecord): Insertable<ClientsTable> {
  return {
    client_id: record.clientId,
    metadata: JSON.stringify(record.metadata),
    client_id_issued_at: record.clientIdIssuedAt,
    client_secret_hash: record.clientSecretHash ?? null,
    client_secret_expires_at: record.clientSecretExpiresAt,
    previous_secret_hash: record.previousSecretHash ?? null,
    previous_secret_expires_at: record.previousSecretExpiresAt ?? null,
    registration_access_token_hash: record.registrationAccessTokenHash ?? null,
    registered_via: record.registeredVia,
    registered_by: record.registeredBy ?? null,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    last_used_at: record.lastUsedAt ?? null,
    disabled_at: record.disabledAt ?? null,
    registration_fingerprint: record.registrationFingerprint ?? null,
    granted_rights: record.grantedRights === undefined ? null : JSON.stringify(record.grantedRights),
  };
}

export function rowToClient(row: Selectable<ClientsTable>): ClientRecord {
  const record: ClientRecord = {
    clientId: row.client_id,
    metadata: JSON.parse(row.metadata) as ClientRecord['metadata'],
    clientIdIssuedAt: Number(row.client_id_issued_at),
    clientSecretExpiresAt: Number(row.client_secret_expires_at),
    registeredVia: row.registered_via as RegistrationVia,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
  if (row.client_secret_hash !== null) record.clientSecretHash = row.client_secret_hash;
  if (row.previous_secret_hash !== null) record.previousSecretHash = row.previous_secret_hash;
  if (row.previous_secret_expires_at !== null) record.previousSecretExpiresAt = Number(row.previous_secret_expires_at);
  if (row.registration_access_token_hash !== null) {
    record.registrationAccessTokenHash = row.registration_access_token_hash;
  }
  if (row.registered_by !== null) record.registeredBy = row.registered_by;
  if (row.last_used_at !== null) record.lastUsedAt = Number(row.last_used_at);
  // `?? null`: on a schema before 0004 (a store opened with `migrate: false`) the columns are missing.
  if ((row.disabled_at ?? null) !== null) record.disabledAt = Number(row.disabled_at);
  if ((row.registration_fingerprint ?? null) !== null) record.registrationFingerprint = row.registration_fingerprint!;
  if ((row.granted_rights ?? null) !== null) record.grantedRights = JSON.parse(row.granted_rights!) as string[];
  // Revision 0 (never replaced) is absent, as the memory store keeps it.
  const revision = Number(row.revision);
  if (revision !== 0) record.revision = revision;
  return record;
}

export function initialAccessTokenToRow(record: InitialAccessTokenRecord): Insertable<InitialAccessTokensTable> {
  return {
    id: record.id,
    token_hash: record.tokenHash,
    label: record.label ?? null,
    uses_remaining: record.usesRemaining,
    expires_at: record.expiresAt,
    created_at: record.createdAt,
    revoked_at: record.revokedAt ?? null,
  };
}

export function rowToInitialAccessToken(row: Selectable<InitialAccessTokensTable>): InitialAccessTokenRecord {
  const record: InitialAccessTokenRecord = {
    id: row.id,
    tokenHash: row.token_hash,
    usesRemaining: row.uses_remaining === null ? null : Number(row.uses_remaining),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    createdAt: Number(row.created_at),
  };
  if (row.label !== null) record.label = row.label;
  if (row.revoked_at !== null) record.revokedAt = Number(row.revoked_at);
  return record;
}

export function auditEventToRow(event: AuditEvent): Insertable<AuditEventsTable> {
  return {
    type: event.type,
    at: event.at,
    client_id: event.clientId ?? null,
    actor: event.actor ?? null,
    ip: event.ip ?? null,
    detail: event.detail === undefined ? null : JSON.stringify(event.detail),
  };
}

export function rowToAuditEvent(row: Selectable<AuditEventsTable>): StoredAuditEvent {
  const event: StoredAuditEvent = {
    id: Number(row.id),
    type: row.type as AuditEventType,
    at: Number(row.at),
  };
  if (row.client_id !== null) event.clientId = row.client_id;
  if (row.actor !== null) event.actor = row.actor;
  if (row.ip !== null) event.ip = row.ip;
  if (row.detail !== null) event.detail = JSON.parse(row.detail) as Record<string, unknown>;
  return event;
}

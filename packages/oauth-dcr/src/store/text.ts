import type { AuditEvent, ClientRecord, InitialAccessTokenRecord } from './types.js';

/**
 * U+0000 (NUL) in strings handed to a store: the one rule every store keeps, written once.
 *
 * PostgreSQL's text type cannot hold NUL: a statement with one in any text parameter fails as a
 * whole (SQLSTATE 22021). That reached clients as a 500 (`/register/%00` with a bearer token,
 * `/revoke` with `client_id=a%00b`, a login as `a%00b`). SQLite and memory could hold it, so to
 * answer alike on every backend:
 * - No key or plain text column ever holds NUL. A lookup by a value holding one finds nothing, as
 *   for any unknown value, and is answered without asking the database.
 * - A write that would put NUL in a key or plain text column is refused with a TypeError. Those
 *   values are generated ids, hashes and validated or configured strings, never raw input, so
 *   one holding NUL is a bug to surface, not a client error.
 * - Audit events exist to record what was sent, hostile input included: their text fields keep a
 *   NUL as U+FFFD (the Unicode replacement character), and a filter on them is read the same way.
 * - JSON columns (client metadata, audit detail) hold any string: they are JSON text, where NUL is
 *   the escape `\u0000`. (Not jsonb, which refuses that escape.)
 */

/** Whether a store can hold this string in a key or plain text column (see above). */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000');
}

/** Refuses a value for a key or plain text column that no store could hold everywhere. */
export function checkStorableText(field: string, value: string | null | undefined): void {
  if (typeof value === 'string' && !isStorableText(value)) {
    throw new TypeError(`${field} contains U+0000, which the store cannot hold (PostgreSQL text refuses it)`);
  }
}

/** An audit event's text field as stored: NUL kept visibly as U+FFFD. */
export function auditText(value: string): string {
  return isStorableText(value) ? value : value.replaceAll('\u0000', '\uFFFD');
}

/**
 * A keyset-pagination cursor (`list ... after`) every backend can compare with. No stored key
 * holds NUL, so "keys after `a<NUL>b`" are exactly "keys after `a`": a key sorting after `a` and
 * before `a<NUL>b` would have to start with `a<NUL>`.
 */
export function storableCursor(after: string): string {
  const nul = after.indexOf('\u0000');
  return nul < 0 ? after : after.slice(0, nul);
}

/** Refuses a client record with NUL outside its metadata (which is stored as JSON). */
export function checkStorableClient(record: ClientRecord): void {
  checkStorableText('clientId', record.clientId);
  checkStorableText('clientSecretHash', record.clientSecretHash);
  checkStorableText('previousSecretHash', record.previousSecretHash);
  checkStorableText('registrationAccessTokenHash', record.registrationAccessTokenHash);
  checkStorableText('registeredVia', record.registeredVia);
  checkStorableText('registeredBy', record.registeredBy);
  checkStorableText('registrationFingerprint', record.registrationFingerprint);
}

/** Refuses an initial access token record with NUL in any of its text fields. */
export function checkStorableInitialAccessToken(record: InitialAccessTokenRecord): void {
  checkStorableText('id', record.id);
  checkStorableText('tokenHash', record.tokenHash);
  checkStorableText('label', record.label);
}

/** An audit event as stored: NUL in its text fields kept as U+FFFD (its detail is JSON). */
export function storableAuditEvent(event: AuditEvent): AuditEvent {
  const { clientId, actor, ip } = event;
  if (
    (clientId === undefined || isStorableText(clientId)) &&
    (actor === undefined || isStorableText(actor)) &&
    (ip === undefined || isStorableText(ip))
  ) {
    return event;
  }
  const stored: AuditEvent = { ...event };
  if (clientId !== undefined) stored.clientId = auditText(clientId);
  if (actor !== undefined) stored.actor = auditText(actor);
  if (ip !== undefined) stored.ip = auditText(ip);
  return stored;
}

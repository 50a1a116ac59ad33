import type { Policy } from './policy.js';
import type { AuditEvent } from '../store/types.js';

/**
 * One event per outcome. Listeners must not be able to fail a request that already succeeded,
 * so their errors are contained; persisting is fire-and-forget for the same reason.
 *
 * The trail never holds secrets, tokens, hashes or request bodies: events are built from chosen
 * fields, and `redactDetail` is the guard behind that habit for whatever a later event adds.
 */
export function emitEvent(policy: Policy, event: Omit<AuditEvent, 'at'>): void {
  // The persisted trail records changes and refusals. A read changes nothing, and making every
  // RFC 7592 read a durable write would cost more than the read itself; listeners still see it.
  const persist = policy.persistAuditEvents && event.type !== 'client.read';
  // Reads are the hot path: with nobody to tell, no event is built at all.
  if (!persist && policy.onEvent === undefined) return;
  const full: AuditEvent = { type: event.type, at: policy.now() };
  if (event.clientId !== undefined) full.clientId = event.clientId;
  if (event.actor !== undefined) full.actor = event.actor;
  if (event.ip !== undefined) full.ip = event.ip;
  if (event.detail !== undefined) full.detail = redactDetail(event.detail);
  try {
    policy.onEvent?.(full);
  } catch {
    // A broken listener is the host's bug; the registration stands.
  }
  if (persist) policy.store.appendAuditEvent(full).catch(() => {});
}

/**
 * Detail keys whose values are credentials whatever event carries them: secrets, tokens (access,
 * refresh, registration, initial access), their hashes, passwords, client assertions (RFC 7523),
 * PKCE verifiers (RFC 7636), authorization codes, cookies and Authorization headers. Matched at
 * the end of the key, so `client_secret`, `registrationAccessToken` and `secretHash` are, and
 * `token_endpoint_auth_method` is not.
 */
const SECRET_KEY = /(secret|token|hash|password|passwd|assertion|credentials?|authorization|cookie|verifier)$/i;
const SECRET_KEYS_EXACT = new Set(['code', 'jwt', 'body', 'raw_body']);

export const REDACTED = '[redacted]';

/** A long string in an event is a body or a blob, never something an operator needs to read whole. */
const MAX_STRING_LENGTH = 1024;
/** Client id lists of a reaped batch are the longest arrays an event carries. */
const MAX_ARRAY_LENGTH = 1000;
const MAX_DEPTH = 4;

/**
 * A copy of an event's detail fit for the audit trail and logs: values under secret-looking keys
 * (other than flags and numbers) replaced by `[redacted]` (at any depth), long strings cut, deep or long structures cut short.
 */
export function redactDetail(detail: Record<string, unknown>): Record<string, unknown> {
  return redactObject(detail, 1);
}

function redactObject(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // `__proto__` as an own key must not become the copy's prototype.
    if (key === '__proto__') continue;
    const item = value[key];
    if (item === undefined) continue;
    // A flag such as `rotated_token: true` says that something happened, and holds nothing secret.
    const credential = isSecretKey(key) && item !== null && typeof item !== 'boolean' && typeof item !== 'number';
    copy[key] = credential ? REDACTED : redactValue(item, depth);
  }
  return copy;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') {
    return value.length > MAX_STRING_LENGTH ? `${value.slice(0, MAX_STRING_LENGTH)}…` : value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested]';
  if (Array.isArray(value)) return value.slice(0, MAX_ARRAY_LENGTH).map((item) => redactValue(item, depth + 1));
  return redactObject(value as Record<string, unknown>, depth + 1);
}

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || SECRET_KEYS_EXACT.has(key.toLowerCase());
}

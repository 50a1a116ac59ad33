import { isDeepStrictEqual } from 'node:util';
import { CLIENT_FIELDS, SERVER_ASSIGNED_FIELDS } from '../metadata/fields.js';
import type { VerifiedStatement } from './software-statement.js';

/**
 * One member of the client metadata that a registration would not keep as sent: added (a
 * default, an inference), dropped (unknown, null, server-assigned) or replaced (narrowed to
 * what the tier allows, taken from a software statement). RFC 7591 §3.2.1: "the authorization
 * server MAY reject or replace any of the client's requested metadata values".
 */
export interface MetadataChange {
  /** The member's name, as sent or as answered. */
  field: string;
  /** The value sent; absent when the member was not sent. */
  from?: unknown;
  /** The value a registration answers; absent when the member is dropped. */
  to?: unknown;
  /** Why, in words, citing the rule. */
  reason: string;
}

/** Members the answer always holds: set from the request or from the RFC 7591 §2 defaults. */
const DEFAULTS: Record<string, string> = {
  token_endpoint_auth_method: 'not sent: the default is client_secret_basic (RFC 7591 §2)',
  grant_types: 'not sent: the default is authorization_code, or what response_types implies (RFC 7591 §2)',
  response_types: 'not sent: the default follows the grant types, code for authorization_code (RFC 7591 §2)',
  application_type:
    'not sent: inferred from the redirect URIs, native for loopback or private-use ones (OIDC DCR §2, RFC 8252 §7)',
  scope: "not sent, or none of it allowed: the deployment's default scope",
};

const NARROWED: Record<string, string> = {
  grant_types: 'grant types this server does not support were dropped (RFC 7591 §3.2.1)',
  response_types: 'response types this server does not support were dropped (RFC 7591 §3.2.1)',
  scope: 'scope values this tier may not be granted, and repeats, were dropped (RFC 7591 §3.2.1)',
};

/**
 * What the server changed between the body as sent and the metadata it answers, member by
 * member. `answer` is the client information response without the members a real registration
 * draws; its `client_secret_expires_at` is the server's, and the statement is echoed as sent.
 */
export function describeChanges(
  body: Record<string, unknown>,
  answer: Record<string, unknown>,
  statement: VerifiedStatement | undefined,
): MetadataChange[] {
  const changes: MetadataChange[] = [];
  const claims = statement?.claims ?? {};
  for (const [field, from] of Object.entries(body)) {
    if (Object.hasOwn(answer, field)) continue;
    changes.push({ field, from, reason: droppedBecause(field, from) });
  }
  for (const [field, to] of Object.entries(answer)) {
    if (field === 'client_secret_expires_at' || field === 'software_statement') continue;
    const sent = Object.hasOwn(body, field);
    const from = sent ? body[field] : undefined;
    if (sent && isDeepStrictEqual(from, to)) continue;
    const change: MetadataChange = sent ? { field, from, to, reason: '' } : { field, to, reason: '' };
    if (Object.hasOwn(claims, field) && isDeepStrictEqual(claims[field], to)) {
      change.reason = 'a claim of the software statement, which takes precedence over the body (RFC 7591 §2.3)';
    } else if (!sent) {
      change.reason = DEFAULTS[field] ?? 'added by the server (RFC 7591 §3.2.1)';
    } else if (from === null) {
      change.reason = `null means not provided; ${DEFAULTS[field] ?? 'added by the server (RFC 7591 §3.2.1)'}`;
    } else {
      change.reason = NARROWED[field] ?? 'replaced by the server (RFC 7591 §3.2.1)';
    }
    changes.push(change);
  }
  return changes;
}

function droppedBecause(field: string, value: unknown): string {
  if (SERVER_ASSIGNED_FIELDS.has(field)) return 'assigned by the server, never taken from a request (RFC 7591 §3.2.1)';
  if (value === null) return 'null means not provided';
  const hash = field.indexOf('#');
  const base = hash === -1 ? field : field.slice(0, hash);
  if (!Object.hasOwn(CLIENT_FIELDS, base) || (hash !== -1 && CLIENT_FIELDS[base]?.localizable !== true)) {
    return 'not client metadata this server understands, so ignored (RFC 7591 §2)';
  }
  return 'removed by the server (RFC 7591 §3.2.1)';
}

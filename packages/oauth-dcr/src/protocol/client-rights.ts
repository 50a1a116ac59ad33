import { RegistrationError } from '../core/errors.js';

/**
 * Rights an operator grants a client beyond its registration (ClientRecord.grantedRights). Never
 * set through RFC 7591 registration or RFC 7592 update: a client cannot grant itself anything.
 *
 * - `introspection`: the client may call the token introspection endpoint (RFC 7662 §2.1 leaves
 *   who may to the server) for every token;
 * - `introspection=<uri>|<uri>`: only for tokens whose audience is one of these resources
 *   (absolute URIs without a fragment, RFC 8707 §2).
 */
export const KNOWN_RIGHTS = ['introspection'] as const;

/** A granted right, parsed. `resources` undefined means every resource. */
export interface ClientRight {
  name: (typeof KNOWN_RIGHTS)[number];
  resources?: string[];
}

/**
 * Parses one right as written (`introspection` or `introspection=https://a/|https://b/`); throws a
 * RegistrationError (invalid_client_metadata) naming what is wrong.
 */
export function parseClientRight(value: string): ClientRight {
  const equals = value.indexOf('=');
  const name = (equals < 0 ? value : value.slice(0, equals)).trim();
  if (!(KNOWN_RIGHTS as readonly string[]).includes(name)) {
    throw refused(`Unknown right ${JSON.stringify(name)} (known: ${KNOWN_RIGHTS.join(', ')})`);
  }
  if (equals < 0) return { name: name as ClientRight['name'] };
  const resources = value
    .slice(equals + 1)
    .split('|')
    .map((resource) => resource.trim());
  if (resources.length === 0 || resources.some((resource) => resource === '')) {
    throw refused(`${name}= needs one or more absolute URIs separated by |`);
  }
  for (const resource of resources) checkResource(name, resource);
  return { name: name as ClientRight['name'], resources };
}

/** The rights as stored: each checked, written in one canonical form, duplicates dropped. */
export function normalizeClientRights(values: readonly string[]): string[] {
  const rights = values.map(parseClientRight).map(formatClientRight);
  return [...new Set(rights)];
}

export function formatClientRight(right: ClientRight): string {
  return right.resources === undefined ? right.name : `${right.name}=${right.resources.join('|')}`;
}

/** RFC 8707 §2: an absolute URI without a fragment. */
function checkResource(name: string, resource: string): void {
  let url: URL | undefined;
  try {
    url = new URL(resource);
  } catch {
    url = undefined;
  }
  if (url === undefined || /\s/.test(resource)) {
    throw refused(`${name}: ${JSON.stringify(resource)} is not an absolute URI`);
  }
  if (resource.includes('#'))
    throw refused(`${name}: ${JSON.stringify(resource)} must not have a fragment (RFC 8707 §2)`);
}

function refused(description: string): RegistrationError {
  return new RegistrationError('invalid_client_metadata', description);
}

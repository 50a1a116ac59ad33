/**
 * RFC 8707 resource indicators: which resources this server issues tokens for, and which
 * resource each token is for. Every rule about the `resource` parameter lives here; the routes
 * only report the outcome.
 *
 * - /authorize (§2): `resource` may repeat; each value is an absolute URI without a fragment.
 *   With DCR_RESOURCES set, only listed resources are served (strict). Unset, any https URI, or
 *   http on loopback, is accepted, so that a local MCP server works out of the box; the consent
 *   page shows what was asked for.
 * - No `resource` (§2 leaves the choice to the server): DCR_DEFAULT_RESOURCE if set, else the
 *   token has no resource audience and is good only at this server's own /userinfo.
 * - /token (§2.2): one audience per access token, chosen among the grant's resources; a refresh
 *   may narrow, never widen.
 */

/** An RFC 8707 `invalid_target` refusal, with what to tell the client. */
export class InvalidTarget extends Error {
  override readonly name = 'InvalidTarget';
}

export interface ResourceSettings {
  /** DCR_RESOURCES: the resources served; undefined means "any https URI, or http on loopback". */
  list?: readonly string[];
  /** DCR_DEFAULT_RESOURCE: the audience of a request without `resource`. */
  default?: string;
  /** This server's own protected resource (/userinfo, RFC 9728 metadata): always served. */
  own: string;
}

/** RFC 8252 §7.3 loopback hosts, where plain http is acceptable. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * The form two spellings of one resource share: the WHATWG URL serialisation lowercases scheme
 * and host, drops a default port and turns an empty path into "/". MCP clients send
 * `new URL(prm.resource).href` (a root resource arrives as `https://host/`), and MCP asks servers
 * to accept any case in scheme and host. Undefined for a value that is not an absolute URI or
 * has a fragment (RFC 8707 §2).
 */
export function normalizeResource(value: string): string | undefined {
  // A URI holds no whitespace (RFC 3986 §2); the WHATWG parser would quietly encode or drop it.
  if (value.includes('#') || /\s/.test(value)) return undefined;
  try {
    return new URL(value).href;
  } catch {
    return undefined;
  }
}

export class ResourcePolicy {
  /** Normalised form -> the canonical string tokens carry (the configured spelling). */
  readonly #served = new Map<string, string>();
  readonly #strict: boolean;
  readonly #default: string | undefined;

  constructor(settings: ResourceSettings) {
    this.#strict = settings.list !== undefined;
    for (const resource of [settings.own, ...(settings.default ? [settings.default] : []), ...(settings.list ?? [])]) {
      const normalized = normalizeResource(resource);
      if (normalized === undefined) throw new TypeError(`not a resource indicator: ${resource}`);
      if (!this.#served.has(normalized)) this.#served.set(normalized, resource);
    }
    this.#default = settings.default;
  }

  /** Whether a configured list restricts the resources (the banner says so). */
  get strict(): boolean {
    return this.#strict;
  }

  /**
   * The canonical resource a `resource` value names. Strict: a served resource (after
   * normalisation, keeping the configured spelling). Open: also any https URI, or http on
   * loopback, in normalised form.
   * @throws InvalidTarget
   */
  canonical(value: string): string {
    const normalized = normalizeResource(value);
    if (normalized === undefined)
      throw new InvalidTarget('A resource must be an absolute URI without a fragment (RFC 8707 §2).');
    const served = this.#served.get(normalized);
    if (served !== undefined) return served;
    if (!this.#strict) {
      const url = new URL(normalized);
      if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)))
        return normalized;
    }
    throw new InvalidTarget(`The resource ${value} is not served by this authorization server.`);
  }

  /**
   * The resources an authorization request is for (RFC 8707 §2): each value checked, duplicates
   * merged, in request order; none asked for gives the default resource, or none at all.
   * @throws InvalidTarget
   */
  forAuthorization(values: readonly string[]): string[] {
    if (values.length === 0) return this.#default ? [this.#default] : [];
    return [...new Set(values.map((value) => this.canonical(value)))];
  }

  /**
   * The resources of a client_credentials request, which has no authorization step: as at
   * /authorize.
   * @throws InvalidTarget
   */
  forClientCredentials(values: readonly string[]): string[] {
    return this.forAuthorization(values);
  }
}

/**
 * The one audience of an access token issued from a grant (RFC 8707 §2.2), for a code exchange
 * or a refresh alike: the requested resource must be one of the grant's (a refresh may narrow,
 * never widen); without one, the grant's only resource; a grant with several needs the client
 * to choose (project rule: RFC 8707 leaves this to the server). A grant with no resource issues
 * a token without a resource audience.
 * @throws InvalidTarget
 */
export function chooseAudience(granted: readonly string[], requested: readonly string[]): string | undefined {
  if (requested.length > 1)
    throw new InvalidTarget('An access token is for one resource: send at most one resource parameter.');
  const [wanted] = requested;
  if (wanted === undefined) {
    if (granted.length <= 1) return granted[0];
    throw new InvalidTarget(
      'This grant covers several resources: the token request must name one with the resource parameter.',
    );
  }
  const normalized = normalizeResource(wanted);
  const match = normalized === undefined ? undefined : granted.find((r) => normalizeResource(r) === normalized);
  if (match === undefined)
    throw new InvalidTarget(`The resource ${wanted} was not granted to this client in this authorization.`);
  return match;
}

/** The `resource` values of a request: absent, one string, or a repeated parameter. */
export function resourceValues(value: unknown): string[] | undefined {
  if (value === undefined || value === '') return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.filter((v) => v !== '');
  return undefined;
}

/** Space-joined for storage: a resource (an absolute URI, no whitespace) never holds a space. */
export function joinResources(resources: readonly string[] | undefined): string | null {
  return resources && resources.length > 0 ? resources.join(' ') : null;
}

export function splitResources(stored: string | null): string[] | undefined {
  return stored ? stored.split(' ') : undefined;
}

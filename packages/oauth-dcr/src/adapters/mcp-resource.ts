// RFC 9728 protected resource metadata and the resource comparison the MCP SDK uses: the parts of
// oauth-dcr/mcp that need no SDK at run time. Re-exported from mcp.ts, the subpath's entry.
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Whether two resource identifiers name the same resource, as the MCP SDK compares them: the URL
 * as serialized, without its fragment and one trailing slash (a root resource arrives as
 * `https://host/` from the SDK client, which sends `new URL(resource).href`).
 */
export function sameResource(a: string | URL, b: string | URL): boolean {
  const comparable = (value: string | URL) => {
    if (!URL.canParse(String(value))) return undefined;
    const url = new URL(value);
    url.hash = '';
    return url.href.replace(/\/$/, '');
  };
  const left = comparable(a);
  return left !== undefined && left === comparable(b);
}

/** RFC 8707 §2: a resource is an absolute URI without a fragment. */
export function checkResource(resource: string | URL): URL {
  if (!URL.canParse(String(resource)) || new URL(resource).hash !== '' || String(resource).includes('#')) {
    throw new TypeError(`resource must be an absolute URL without a fragment: ${String(resource)}`);
  }
  return new URL(resource);
}

/** RFC 9728 §2 protected resource metadata, as `protectedResourceMetadata` builds it. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  resource_name?: string;
  resource_documentation?: string;
}

export interface ProtectedResourceOptions {
  /** The MCP endpoint's URL exactly as clients use it (RFC 9728 §3.3), e.g. `https://mcp.example.com/mcp`. */
  resource: string;
  /** Issuers of the authorization servers whose tokens are accepted, each its exact `issuer` string. */
  authorizationServers: string[];
  /** The scopes a client needs here; the MCP SDK client asks for these (keep the set minimal). */
  scopesSupported?: string[];
  /** A name to show users. */
  resourceName?: string;
  /** A page for developers. */
  resourceDocumentation?: string;
}

/**
 * The RFC 9728 §2 document for an MCP server. `resource` is kept as given: clients compare it
 * with the URL they used (§3.3).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-2
 */
export function protectedResourceMetadata(options: ProtectedResourceOptions): ProtectedResourceMetadata {
  checkResource(options.resource);
  if (options.authorizationServers.length === 0) throw new TypeError('authorizationServers must name an issuer');
  return {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    ...(options.scopesSupported ? { scopes_supported: [...options.scopesSupported] } : {}),
    // RFC 6750 §2.1 only: tokens in a query string end up in logs.
    bearer_methods_supported: ['header'],
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation ? { resource_documentation: options.resourceDocumentation } : {}),
  };
}

/**
 * Where the metadata of `resource` lives: `/.well-known/oauth-protected-resource` inserted between
 * the host and the resource's path (RFC 9728 §3.1), so `https://h/mcp` has
 * `https://h/.well-known/oauth-protected-resource/mcp`. Give it to `requireBearerAuth` as
 * `resourceMetadataUrl`, and serve the handler below at its `pathname`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.1
 */
export function protectedResourceMetadataUrl(resource: string | URL): URL {
  const url = checkResource(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return new URL(`/.well-known/oauth-protected-resource${path}${url.search}`, url.origin);
}

/**
 * A node:http / Express handler that serves the metadata: GET and HEAD with 200 JSON, CORS open
 * (browser-based clients read it), OPTIONS with 204, anything else 405.
 *
 *   app.all(protectedResourceMetadataUrl(resource).pathname, protectedResourceMetadataHandler({ ... }))
 */
export function protectedResourceMetadataHandler(options: ProtectedResourceOptions) {
  const body = JSON.stringify(protectedResourceMetadata(options));
  return (req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Max-Age': '86400' });
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD, OPTIONS', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: `${req.method} is not allowed here` }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

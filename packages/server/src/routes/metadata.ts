import { Router } from 'express';
import { endpoint, type ServerContext } from '../context.js';
import { apiCors } from './json-errors.js';

/**
 * RFC 8414 authorization server metadata and RFC 9728 protected resource metadata. The
 * registration-related members come from the live registration policy (`serverMetadata()`), so
 * they list what /register and /token really accept.
 */
export function authorizationServerMetadata(context: ServerContext): Record<string, unknown> {
  // Everything the registration policy knows (auth methods, grants, Client ID Metadata Document
  // support, assertion algorithms...) first; the server's own endpoints after.
  const registration = context.registration.serverMetadata();
  return {
    ...registration,
    issuer: context.issuer,
    authorization_endpoint: endpoint(context, '/authorize'),
    token_endpoint: endpoint(context, '/token'),
    revocation_endpoint: endpoint(context, '/revoke'),
    registration_endpoint: registration.registration_endpoint ?? endpoint(context, '/register'),
    // RFC 9068: access tokens for a resource are JWTs signed with the keys published here.
    jwks_uri: endpoint(context, '/jwks'),
    response_modes_supported: ['query'],
    // RFC 7009 revocation authenticates clients exactly as the token endpoint does.
    revocation_endpoint_auth_methods_supported: registration.token_endpoint_auth_methods_supported,
    // RFC 7662 §2.1: introspection needs an authenticated (so confidential) client.
    introspection_endpoint: endpoint(context, '/introspect'),
    introspection_endpoint_auth_methods_supported: registration.token_endpoint_auth_methods_supported.filter(
      (method) => method !== 'none',
    ),
    // RFC 9207: every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: true,
    service_documentation: endpoint(context, '/'),
  };
}

export function protectedResourceMetadata(context: ServerContext): Record<string, unknown> {
  const registration = context.registration.serverMetadata();
  return {
    resource: context.resource,
    authorization_servers: [context.issuer],
    bearer_methods_supported: ['header'],
    ...(registration.scopes_supported ? { scopes_supported: registration.scopes_supported } : {}),
    resource_name: 'oauth-dcr reference server',
  };
}

export function metadataRoutes(context: ServerContext): Router {
  const router = Router();
  const issuerPath = new URL(context.issuer).pathname.replace(/\/$/, '');
  const send = (build: () => Record<string, unknown>) => (_req: unknown, res: import('express').Response) => {
    res.set('Cache-Control', 'public, max-age=300').json(build());
  };
  // RFC 8414 §3.1: for an issuer with a path, the well-known segment goes before the path.
  const asPaths = [
    '/.well-known/oauth-authorization-server',
    ...(issuerPath ? [`/.well-known/oauth-authorization-server${issuerPath}`] : []),
  ];
  for (const path of asPaths)
    router.all(path, apiCors).get(
      path,
      send(() => authorizationServerMetadata(context)),
    );
  // RFC 9728 §3.1: the resource is the whole server, so its metadata sits at the root only (a
  // path-aware location would have to name a different resource). MCP clients asking for
  // .../oauth-protected-resource/userinfo get a 404 and fall back to the root.
  const prmPath = '/.well-known/oauth-protected-resource';
  router.all(prmPath, apiCors).get(
    prmPath,
    send(() => protectedResourceMetadata(context)),
  );
  return router;
}

import type { IncomingMessage } from 'node:http';
import type OAuth2Server from '@node-oauth/oauth2-server';
import type { ClientAttestationVerifier, Registration } from 'oauth-dcr';
import type { IntrospectionClient } from './config.js';
import type { Logger } from './logger.js';
import type { LoginThrottle } from './login-throttle.js';
import type { ReferenceModel } from './model.js';
import type { ServerMetrics } from './metrics.js';
import type { ResourcePolicy } from './resources.js';
import type { SessionStore } from './sessions.js';
import type { SigningKeyRing } from './signing-keys.js';
import type { ServerStorage } from './storage/open-storage.js';

/** What the routes share. Built once in server.ts. */
export interface ServerContext {
  /** RFC 8414 issuer identifier: no trailing slash. */
  issuer: string;
  /**
   * The issuer's path ('' for an issuer without one). An issuer with a path means a proxy that
   * strips it: routes stay at the root, while links the browser follows carry the prefix.
   */
  basePath: string;
  /** RFC 9728 / RFC 8707: this server's own protected resource (/userinfo). */
  resource: string;
  /** RFC 8707: the resources tokens may be for, and the default one. */
  resources: ResourcePolicy;
  /** RFC 9068: the access-token signing keys, published at /jwks. */
  signingKeys: SigningKeyRing;
  /** RFC 7662: who may introspect (DCR_INTROSPECTION_CLIENTS). */
  introspectionClients: readonly IntrospectionClient[];
  /** DCR_OPERATORS: usernames allowed into /admin. */
  operators: readonly string[];
  registration: Registration;
  /**
   * Client attestation at the token endpoint (DCR_ATTESTERS, draft-ietf-oauth-attestation-based-client-auth-10);
   * absent while off. Built from the same options as the registration's, sharing its jti store.
   */
  clientAttestation?: ClientAttestationVerifier;
  oauth: OAuth2Server;
  model: ReferenceModel;
  storage: ServerStorage;
  sessions: SessionStore;
  loginThrottle: LoginThrottle;
  /** Prometheus metrics; a no-op unless DCR_METRICS_PORT is set. */
  metrics: ServerMetrics;
  logger: Logger;
  /**
   * The client's address, by one rule for every endpoint (login throttle, client-authentication
   * limits, audit): the socket's peer, or what a proxy named in DCR_TRUST_PROXY forwarded in
   * X-Forwarded-For (the library's `registration.clientAddress`).
   */
  clientAddress(req: IncomingMessage): string | undefined;
}

/** `context.clientAddress` for a registration: the socket's peer and X-Forwarded-For, through trustProxy. */
export function clientAddressOf(
  registration: Pick<Registration, 'clientAddress'>,
): (req: IncomingMessage) => string | undefined {
  return (req) => {
    const forwarded = req.headers['x-forwarded-for'];
    // Several X-Forwarded-For headers are one list, in order (RFC 9110 §5.3).
    return registration.clientAddress(
      req.socket.remoteAddress,
      Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
    );
  };
}

export function endpoint(context: Pick<ServerContext, 'issuer'>, path: string): string {
  return `${context.issuer}${path}`;
}

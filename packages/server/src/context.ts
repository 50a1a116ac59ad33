import type OAuth2Server from '@node-oauth/oauth2-server';
import type { Registration } from 'oauth-dcr';
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
  registration: Registration;
  oauth: OAuth2Server;
  model: ReferenceModel;
  storage: ServerStorage;
  sessions: SessionStore;
  loginThrottle: LoginThrottle;
  /** Prometheus metrics; a no-op unless DCR_METRICS_PORT is set. */
  metrics: ServerMetrics;
  logger: Logger;
}

export function endpoint(context: Pick<ServerContext, 'issuer'>, path: string): string {
  return `${context.issuer}${path}`;
}

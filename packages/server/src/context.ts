import type OAuth2Server from '@node-oauth/oauth2-server';
import type { Registration } from 'oauth-dcr';
import type { Logger } from './logger.js';
import type { LoginThrottle } from './login-throttle.js';
import type { ReferenceModel } from './model.js';
import type { SessionStore } from './sessions.js';
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
  /** RFC 9728 / RFC 8707: the protected resource this server's tokens are for. */
  resource: string;
  registration: Registration;
  oauth: OAuth2Server;
  model: ReferenceModel;
  storage: ServerStorage;
  sessions: SessionStore;
  loginThrottle: LoginThrottle;
  logger: Logger;
}

export function endpoint(context: Pick<ServerContext, 'issuer'>, path: string): string {
  return `${context.issuer}${path}`;
}

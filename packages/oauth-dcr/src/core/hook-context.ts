import type { RegistrationVia } from '../store/types.js';

/** The request as hooks see it, whichever adapter it came through. */
export interface RequestContext {
  /** The HTTP method, upper case. */
  method: string;
  /** The request's absolute URL. */
  url: string;
  /** The peer's IP address, when the adapter knows it. */
  remoteAddress?: string;
  /** A request header by name (case-insensitive), or undefined when it was not sent. */
  header(name: string): string | undefined;
}

/** What a hook learns about the registration in progress. */
export interface RegistrationContext extends RequestContext {
  /** How the client is getting in: the trust tier it will be recorded with. */
  registeredVia: RegistrationVia;
  /** The principal, initial access token id or statement issuer that admits it, if any. */
  registeredBy?: string;
}

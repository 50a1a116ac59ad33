import { resolvePolicy, type Policy, type RegistrationOptions } from '../core/policy.js';
import type { ClientStore } from '../store/types.js';
import { initialAccessTokenAdmin, type InitialAccessTokenAdmin } from './initial-access-tokens.js';
import { registrationServerMetadata, type RegistrationServerMetadata } from './server-metadata.js';
import type { RawRequest } from '../core/request.js';
import { toWebResponse, type HttpResult } from '../core/response.js';
import { dispatch } from './routes.js';

/**
 * A registration endpoint: call it with a Web `Request` and get a `Response`. That is all a
 * Web-standard runtime (Hono, Bun, Deno, Workers) needs; the Express and node:http adapters use
 * `handleRaw` to skip building Web objects.
 */
export interface Registration {
  (request: Request): Promise<Response>;
  /** The same endpoint for adapters that already hold the request's parts. */
  handleRaw(request: RawRequest): Promise<HttpResult>;
  readonly policy: Policy;
  readonly store: ClientStore;
  /** RFC 8414 members this endpoint is responsible for, with the values it really accepts. */
  serverMetadata(): RegistrationServerMetadata;
  readonly initialAccessTokens: InitialAccessTokenAdmin;
}

export function createRegistration(options: RegistrationOptions): Registration {
  const policy = resolvePolicy(options);
  const handleRaw = (request: RawRequest) => dispatch(policy, request);
  const handler = async (request: Request): Promise<Response> => toWebResponse(await handleRaw(fromWebRequest(request)));
  return Object.assign(handler, {
    handleRaw,
    policy,
    store: policy.store,
    serverMetadata: () => registrationServerMetadata(policy),
    initialAccessTokens: initialAccessTokenAdmin(policy.store, policy.now),
  });
}

function fromWebRequest(request: Request): RawRequest {
  return {
    method: request.method,
    url: request.url,
    header: (name) => request.headers.get(name) ?? undefined,
    body: request.body as AsyncIterable<Uint8Array> | null,
  };
}

import { createRegistration, type Registration, type RegistrationOptions } from '../../src/index.js';
import { memoryStore } from '../../src/store/memory.js';

export const BASE = 'https://as.example.com';

/** A registration endpoint over the memory store (or the options' store), issuer BASE. */
export function makeRegistration(options: Partial<RegistrationOptions> = {}): Registration {
  return createRegistration({ store: memoryStore(), issuer: BASE, onError: () => {}, ...options });
}

export interface Sent {
  status: number;
  headers: Headers;
  body: Record<string, any>;
  text: string;
}

/** Calls the Web handler directly (no sockets) and decodes the JSON answer. */
export async function send(
  dcr: Registration,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Sent> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await dcr(new Request(`${BASE}${path}`, init));
  const text = await response.text();
  let parsed: Record<string, any> = {};
  if (text) parsed = JSON.parse(text); // every answer must be JSON: a parse failure fails the test
  return { status: response.status, headers: response.headers, body: parsed, text };
}

export const register = (dcr: Registration, body: unknown, headers?: Record<string, string>) =>
  send(dcr, 'POST', '/register', body, headers);

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A typical MCP client registration. */
export const mcpClient = {
  client_name: 'Example MCP Client',
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
};

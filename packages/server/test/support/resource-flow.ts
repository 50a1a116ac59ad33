import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserlessUser, pkcePair, registerClient, tokenRequest } from './oauth-flow.js';
import { startTestServer, type TestServer } from './reference-server.js';

/**
 * Authorization flows that name resources (RFC 8707), through the real server's pages, and the
 * token requests that follow, each client authenticating the way it registered.
 */

export const REDIRECT_URI = 'http://127.0.0.1:9999/cb';

export type Client = Record<string, any>;

/** A public client (PKCE, no secret) that registered the refresh_token grant, as MCP clients do. */
export function registerPublicClient(baseUrl: string, extra: Record<string, unknown> = {}): Promise<Client> {
  return registerClient(baseUrl, {
    client_name: 'Resource test client',
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    ...extra,
  });
}

/** The authorization URL with PKCE, state and each resource as its own parameter. */
export function resourceAuthorizationUrl(
  baseUrl: string,
  client: Client,
  challenge: string,
  options: { resources?: string[]; scope?: string; extra?: Record<string, string> } = {},
): URL {
  const url = new URL(`${baseUrl}/authorize`);
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    state: 'state-r',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(options.scope ? { scope: options.scope } : {}),
    ...options.extra,
  });
  for (const resource of options.resources ?? []) params.append('resource', resource);
  url.search = params.toString();
  return url;
}

/** Signs in, consents, and returns where the browser was sent (the client's redirect URI). */
export async function authorizeFor(
  baseUrl: string,
  client: Client,
  options: { resources?: string[]; scope?: string; extra?: Record<string, string>; decision?: 'approve' | 'deny' } = {},
): Promise<{ back: URL; verifier: string }> {
  const { verifier, challenge } = pkcePair();
  const back = await new BrowserlessUser().authorize(
    resourceAuthorizationUrl(baseUrl, client, challenge, options),
    options.decision ?? 'approve',
  );
  return { back, verifier };
}

/** A token request from `client`, authenticated by its registered method. */
export function clientTokenRequest(baseUrl: string, client: Client, params: Record<string, string>) {
  const method = client.token_endpoint_auth_method ?? 'client_secret_basic';
  if (method === 'client_secret_basic')
    return tokenRequest(baseUrl, params, { id: client.client_id, secret: client.client_secret });
  const auth: Record<string, string> =
    method === 'none'
      ? { client_id: client.client_id }
      : { client_id: client.client_id, client_secret: client.client_secret };
  return tokenRequest(baseUrl, { ...params, ...auth });
}

/** The code exchange, with a resource when given. */
export function exchangeCode(baseUrl: string, client: Client, back: URL, verifier: string, resource?: string) {
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code in ${back.href}`);
  return clientTokenRequest(baseUrl, client, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    ...(resource ? { resource } : {}),
  });
}

export function refresh(baseUrl: string, client: Client, refreshToken: string, resource?: string) {
  return clientTokenRequest(baseUrl, client, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    ...(resource ? { resource } : {}),
  });
}

/** A running server with a confidential client the operator listed in DCR_INTROSPECTION_CLIENTS. */
export interface IntrospectingServer {
  server: TestServer;
  /** The listed client (client_secret_basic unless registered otherwise). */
  introspector: Client;
  stop(): Promise<void>;
}

/**
 * As an operator does it: register the resource server's client, then (re)start the server with
 * its client_id in DCR_INTROSPECTION_CLIENTS (`entry` turns the id into the entry written there).
 */
export async function startWithIntrospector(
  env: Record<string, string> = {},
  entry: (clientId: string) => string = (id) => id,
  metadata: Record<string, unknown> = {
    client_name: 'MCP server',
    redirect_uris: ['https://mcp.example/unused'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
): Promise<IntrospectingServer> {
  const dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-introspect-'));
  const shared = { ...env, DATABASE_PATH: join(dir, 'shared.db') };
  const first = await startTestServer({ env: shared });
  let introspector: Client;
  try {
    introspector = await registerClient(first.url, metadata);
  } finally {
    await first.stop();
  }
  const server = await startTestServer({
    env: { ...shared, DCR_INTROSPECTION_CLIENTS: entry(introspector.client_id) },
  });
  return {
    server,
    introspector,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** POST /introspect, authenticated with HTTP Basic when `caller` is given. */
export async function introspect(
  baseUrl: string,
  token: string,
  caller?: { id: string; secret: string },
): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (caller)
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(caller.id)}:${encodeURIComponent(caller.secret)}`).toString('base64')}`;
  const response = await fetch(`${baseUrl}/introspect`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ token }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any>, headers: response.headers };
}

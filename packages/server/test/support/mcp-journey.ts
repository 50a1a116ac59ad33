/**
 * The parts of an MCP journey that are not under test but must be real: the repository's example
 * MCP server (examples/mcp-server, started in this process), an MCP client's OAuth state kept in
 * memory (the MCP SDK's OAuthClientProvider), a loopback callback listener like a desktop client's,
 * and a user who signs in and consents in Chromium.
 */
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { BrowserContext } from 'playwright-core';
import { DEMO_PASSWORD, DEMO_USERNAME } from './reference-server.js';

export interface RunningMcpServer {
  /** The MCP endpoint, which is also the server's resource identifier. */
  url: string;
  close(): Promise<void>;
}

/** What examples/mcp-server/app.mjs exports (plain JavaScript, typed here for the tests). */
interface ExampleModule {
  createMcpApp(options: { issuer: string; resource: string; scopes?: string[]; name?: string }): RequestListener;
}

async function listen(handler: RequestListener): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * The example MCP server as `npm run example:mcp` builds it, trusting `issuer`, on an ephemeral
 * port. The port is known only once listening, so the app is created on the first request.
 */
export async function startExampleMcpServer(issuer: string, name = 'Example MCP server'): Promise<RunningMcpServer> {
  const appUrl = pathToFileURL(join(process.cwd(), 'examples', 'mcp-server', 'app.mjs')).href;
  const example = (await import(appUrl)) as ExampleModule;
  let app: RequestListener | undefined;
  let url = '';
  const { server, origin } = await listen((req, res) => {
    app ??= example.createMcpApp({ issuer, resource: url, name });
    app(req, res);
  });
  url = `${origin}/mcp`;
  return { url, close: () => close(server) };
}

/** A desktop client's loopback listener for the authorization response. */
export async function startCallbackListener(): Promise<{ url: string; close(): Promise<void> }> {
  const { server, origin } = await listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Client</title><p>Signed in. You can close this window.</p>');
  });
  return { url: `${origin}/callback`, close: () => close(server) };
}

/** Every request an MCP client makes (MCP and OAuth alike), through the transport's `fetch` option. */
export class RecordingFetch {
  readonly requests: Array<{ method: string; url: string; body: string }> = [];
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const body = typeof init?.body === 'string' || init?.body instanceof URLSearchParams ? String(init.body) : '';
    this.requests.push({ method: init?.method ?? 'GET', url, body });
    return fetch(input, init);
  };
  /** The requests to `path` on any origin. */
  to(path: string): Array<{ method: string; url: string; body: string }> {
    return this.requests.filter((request) => new URL(request.url).pathname === path);
  }
}

/** An MCP client's OAuth state, in memory: what a desktop client keeps in its settings. */
export class MemoryOAuthClient implements OAuthClientProvider {
  information: OAuthClientInformationMixed | undefined;
  savedTokens: OAuthTokens | undefined;
  authorizationUrl: URL | undefined;
  #verifier: string | undefined;

  constructor(
    private readonly callbackUrl: string,
    /** A Client ID Metadata Document URL: the client identifies itself by it instead of registering. */
    readonly clientMetadataUrl?: string,
  ) {}

  get redirectUrl(): string {
    return this.callbackUrl;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP journey client',
      redirect_uris: [this.callbackUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.information;
  }
  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.information = information;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.savedTokens = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }
  codeVerifier(): string {
    if (!this.#verifier) throw new Error('no code verifier saved');
    return this.#verifier;
  }
}

/**
 * The user in Chromium: opens the authorization URL, signs in as the demo user, approves, and
 * returns the URL the browser was sent back to (the client's callback, with `code` or `error`).
 * `consentText` receives the consent page's text, for assertions on what the user was shown.
 */
export async function consentInBrowser(
  context: BrowserContext,
  authorizationUrl: URL,
  callbackUrl: string,
  consentText?: (text: string) => void,
): Promise<URL> {
  const page = await context.newPage();
  try {
    await page.goto(authorizationUrl.href);
    const login = page.locator('input[name=username]');
    if (await login.count()) {
      await page.fill('input[name=username]', DEMO_USERNAME);
      await page.fill('input[name=password]', DEMO_PASSWORD);
      await page.click('button[type=submit]');
    }
    await page.locator('button[value=approve]').waitFor();
    consentText?.(await page.locator('main').innerText());
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(callbackUrl)),
      page.click('button[value=approve]'),
    ]);
    return new URL(page.url());
  } finally {
    await page.close();
  }
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** One MCP client's first contact with an MCP server, as the host application saw it. */
export interface Journey {
  client: Client;
  provider: MemoryOAuthClient;
  recorder: RecordingFetch;
  /** The consent page as the user saw it. */
  consent: string;
  /** Where the browser was sent back to. */
  callbackUrl: URL;
}

function clientTransport(mcpUrl: string, provider: MemoryOAuthClient, recorder: RecordingFetch) {
  return new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, fetch: recorder.fetch });
}

/**
 * What an MCP host does on first contact: connect with the SDK, be refused (the SDK runs
 * discovery and registration, then hands over the authorization URL), let the user consent in the
 * browser, finish the authorization with the code, and connect again.
 */
export async function connectWithConsent(
  context: BrowserContext,
  mcpUrl: string,
  provider: MemoryOAuthClient,
): Promise<Journey> {
  const recorder = new RecordingFetch();
  const first = clientTransport(mcpUrl, provider, recorder);
  await assert.rejects(new Client({ name: 'mcp-journey', version: '1.0.0' }).connect(first), UnauthorizedError);
  assert.ok(provider.authorizationUrl, 'the SDK sent the user to authorize');
  let consent = '';
  const callbackUrl = await consentInBrowser(context, provider.authorizationUrl, provider.redirectUrl, (text) => {
    consent = text;
  });
  const code = callbackUrl.searchParams.get('code');
  assert.ok(code, `a code came back: ${callbackUrl.href}`);
  await first.finishAuth(code);
  const client = new Client({ name: 'mcp-journey', version: '1.0.0' });
  await client.connect(clientTransport(mcpUrl, provider, recorder));
  return { client, provider, recorder, consent, callbackUrl };
}

/** Calls the example's `whoami` tool and returns what it answered. */
export async function whoami(client: Client): Promise<Record<string, unknown>> {
  const result = (await client.callTool({ name: 'whoami', arguments: {} })) as {
    content: Array<{ type: string; text: string }>;
    isError?: boolean;
  };
  assert.notEqual(result.isError, true, JSON.stringify(result));
  return JSON.parse(result.content[0]!.text) as Record<string, unknown>;
}

/** A bare MCP `initialize` request, as any HTTP client would send it. */
export function initialize(mcpUrl: string, accessToken?: string): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } },
    }),
  });
}

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { decodeJwt } from 'jose';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { countSkippedSuite } from '../../../oauth-dcr/test/support/services.js';
import { type McpServerWithoutMetadata, startMcpServerWithoutMetadata } from '../support/mcp-defaults.js';
import {
  CHROMIUM_ARGS,
  consentInBrowser,
  initialize,
  MemoryOAuthClient,
  RecordingFetch,
  type RunningMcpServer,
  startCallbackListener,
  startExampleMcpServer,
  whoami,
} from '../support/mcp-journey.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * MCP end to end where the client is given less to go on: an MCP server that publishes no
 * protected resource metadata (so the MCP SDK sends no `resource` and the reference server's
 * DCR_DEFAULT_RESOURCE decides the audience), and a token whose scopes fall short of what the MCP
 * server needs (403 insufficient_scope, RFC 6750 §3.1).
 */
const CHROMIUM = '/usr/bin/chromium';
const onCi = process.env.CI === 'true' || process.env.CI === '1';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (onCi) throw new Error(`${CHROMIUM} is required on CI but is missing (apt-get install chromium)`);
  process.stderr.write(`skipping MCP defaults suite: ${CHROMIUM} not found (apt-get install chromium)\n`);
  countSkippedSuite('the MCP defaults suite', `${CHROMIUM} not found`);
}

/** A client configured with the scope it wants: the SDK's last resort when nothing names one. */
class ScopedOAuthClient extends MemoryOAuthClient {
  override get clientMetadata(): OAuthClientMetadata {
    return { ...super.clientMetadata, scope: 'mcp:tools' };
  }
}

let browser: Browser;
let context: BrowserContext;
let callback: { url: string; close(): Promise<void> };

before(async () => {
  if (!haveChromium) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  context = await browser.newContext();
  callback = await startCallbackListener();
});
after(async () => {
  await context?.close();
  await browser?.close();
  await callback?.close();
});

/**
 * The SDK's first contact, as a host drives it: refused, the user consents in Chromium, the code
 * is exchanged. Stops there, since a token without the right audience cannot connect.
 */
async function authorizeThroughSdk(mcpUrl: string, provider: MemoryOAuthClient, recorder: RecordingFetch) {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    authProvider: provider,
    fetch: recorder.fetch,
  });
  await assert.rejects(new Client({ name: 'mcp-defaults', version: '1.0.0' }).connect(transport), UnauthorizedError);
  assert.ok(provider.authorizationUrl, 'the SDK sent the user to authorize');
  const back = await consentInBrowser(context, provider.authorizationUrl, provider.redirectUrl);
  const code = back.searchParams.get('code');
  assert.ok(code, `a code came back: ${back.href}`);
  await transport.finishAuth(code);
  assert.ok(provider.savedTokens, 'the code was exchanged for tokens');
  return provider.savedTokens;
}

describe('an MCP server without protected resource metadata (RFC 8707 §2 default resource)', {
  skip: !haveChromium,
}, () => {
  let withDefault: TestServer;
  let withoutDefault: TestServer;
  let mcp: McpServerWithoutMetadata;
  let mcpOfNoDefault: McpServerWithoutMetadata;
  let bare: McpServerWithoutMetadata;

  before(async () => {
    const layout = { scopes: ['mcp:tools'], relayAuthorizationServerMetadata: true };
    mcp = await startMcpServerWithoutMetadata(layout);
    mcpOfNoDefault = await startMcpServerWithoutMetadata(layout);
    bare = await startMcpServerWithoutMetadata({ scopes: ['mcp:tools'], relayAuthorizationServerMetadata: false });
    withDefault = await startTestServer({ env: { DCR_DEFAULT_RESOURCE: mcp.url } });
    withoutDefault = await startTestServer();
    mcp.trust(withDefault.url);
    mcpOfNoDefault.trust(withoutDefault.url);
    bare.trust(withDefault.url);
  });
  after(async () => {
    for (const server of [mcp, mcpOfNoDefault, bare]) await server?.close();
    await withDefault?.stop();
    await withoutDefault?.stop();
  });

  it('the SDK, finding no metadata, takes the MCP server origin for the authorization server', async () => {
    // MCP SDK 1.32.2 (client/auth.js discoverOAuthServerInfo): when RFC 9728 discovery fails it
    // falls back to the 2025-03-26 rule, "the MCP server's origin is the authorization server",
    // and with no RFC 8414 document there either it posts to <MCP origin>/register. A bare MCP
    // server therefore leaves the client nowhere: the authorization server is never contacted.
    const recorder = new RecordingFetch();
    const provider = new ScopedOAuthClient(callback.url);
    const transport = new StreamableHTTPClientTransport(new URL(bare.url), {
      authProvider: provider,
      fetch: recorder.fetch,
    });
    await assert.rejects(new Client({ name: 'mcp-defaults', version: '1.0.0' }).connect(transport));
    const origin = new URL(bare.url).origin;
    const asked = recorder.requests.map((request) => `${request.method} ${request.url}`);
    assert.ok(asked.includes(`GET ${origin}/.well-known/oauth-protected-resource/mcp`), asked.join('\n'));
    assert.ok(asked.includes(`GET ${origin}/.well-known/oauth-authorization-server`), asked.join('\n'));
    assert.ok(asked.includes(`POST ${origin}/register`), asked.join('\n'));
    assert.equal(
      recorder.requests.filter((request) => request.url.startsWith(withDefault.url)).length,
      0,
      'nothing reached the authorization server',
    );
    assert.equal(provider.information, undefined, 'no registration');
  });

  it('11. the SDK sends no resource and the token is for DCR_DEFAULT_RESOURCE', async () => {
    // The path the SDK takes here: 401 without resource_metadata -> RFC 9728 metadata at the MCP
    // origin: 404 -> the MCP origin's RFC 8414 document (the authorization server's own, relayed
    // there as a 2025-03-26 MCP server does) -> DCR, /authorize and /token at the authorization
    // server it names. selectResourceURL() returns undefined without protected resource
    // metadata, so neither /authorize nor /token carries `resource`.
    const recorder = new RecordingFetch();
    const provider = new ScopedOAuthClient(callback.url);
    const tokens = await authorizeThroughSdk(mcp.url, provider, recorder);
    const origin = new URL(mcp.url).origin;
    assert.ok(recorder.to('/.well-known/oauth-protected-resource/mcp').length > 0, 'the SDK looked for metadata');
    assert.ok(
      recorder.requests.some((request) => request.url === `${origin}/.well-known/oauth-authorization-server`),
      'the SDK took the MCP origin for the authorization server',
    );
    assert.equal(recorder.to('/register').length, 1, 'one registration');

    const authorizationUrl = provider.authorizationUrl!;
    assert.equal(authorizationUrl.origin, new URL(withDefault.url).origin);
    assert.equal(authorizationUrl.searchParams.has('resource'), false, `no resource: ${authorizationUrl.href}`);
    assert.equal(authorizationUrl.searchParams.get('scope'), 'mcp:tools');
    const exchanges = recorder.to('/token');
    assert.equal(exchanges.length, 1);
    assert.equal(new URLSearchParams(exchanges[0]!.body).has('resource'), false, 'no resource at /token either');

    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.iss, withDefault.url);
    assert.deepEqual([claims.aud].flat(), [mcp.url], 'the audience is DCR_DEFAULT_RESOURCE');

    const client = new Client({ name: 'mcp-defaults', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider, fetch: recorder.fetch }),
    );
    try {
      const me = await whoami(client);
      assert.equal(me.resource, mcp.url);
      assert.equal(me.client_id, (provider.information as { client_id: string }).client_id);
    } finally {
      await client.close();
    }
  });

  it('11. without DCR_DEFAULT_RESOURCE the same client gets a token the MCP server refuses', async () => {
    const recorder = new RecordingFetch();
    const provider = new ScopedOAuthClient(callback.url);
    const tokens = await authorizeThroughSdk(mcpOfNoDefault.url, provider, recorder);
    assert.equal(provider.authorizationUrl!.searchParams.has('resource'), false);
    // No resource audience: the reference server issues an opaque token (no JWT, so no `aud`),
    // good only at its own /userinfo.
    assert.throws(() => decodeJwt(tokens.access_token), 'not a JWT access token');
    const refused = await initialize(mcpOfNoDefault.url, tokens.access_token);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const userinfo = await fetch(`${withoutDefault.url}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(userinfo.status, 200, 'the token is good at the authorization server itself');
  });
});

describe('a token without the scope an MCP server needs (RFC 6750 §3.1 insufficient_scope)', {
  skip: !haveChromium,
}, () => {
  let authorizationServer: TestServer;
  let example: RunningMcpServer;

  before(async () => {
    authorizationServer = await startTestServer();
    example = await startExampleMcpServer(authorizationServer.url);
  });
  after(async () => {
    await example?.close();
    await authorizationServer?.stop();
  });

  it('gets 403 naming the scope needed and where the metadata is', async () => {
    // The SDK's own auth(), asked for a narrower scope than the example's mcp:tools: it discovers
    // the example's metadata (so the token is for the example), registers, and hands over the URL.
    const provider = new MemoryOAuthClient(callback.url);
    const recorder = new RecordingFetch();
    const options = { serverUrl: example.url, scope: 'mcp:read', fetchFn: recorder.fetch };
    assert.equal(await auth(provider, options), 'REDIRECT');
    const authorizationUrl = provider.authorizationUrl!;
    assert.equal(authorizationUrl.searchParams.get('scope'), 'mcp:read');
    assert.equal(authorizationUrl.searchParams.get('resource'), example.url);
    const back = await consentInBrowser(context, authorizationUrl, provider.redirectUrl);
    const code = back.searchParams.get('code');
    assert.ok(code, `a code came back: ${back.href}`);
    assert.equal(await auth(provider, { ...options, authorizationCode: code }), 'AUTHORIZED');

    const token = provider.savedTokens!.access_token;
    const claims = decodeJwt(token);
    assert.deepEqual([claims.aud].flat(), [example.url], 'the right audience: only the scope is short');
    assert.equal(claims.scope, 'mcp:read');

    const response = await initialize(example.url, token);
    assert.equal(response.status, 403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="mcp:tools"/);
    const metadataUrl = `${new URL(example.url).origin}/.well-known/oauth-protected-resource/mcp`;
    assert.ok(challenge.includes(`resource_metadata="${metadataUrl}"`), challenge);
    assert.equal(((await response.json()) as { error?: string }).error, 'insufficient_scope');
  });
});

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { countSkippedSuite } from '../../../oauth-dcr/test/support/services.js';
import {
  CHROMIUM_ARGS,
  connectWithConsent,
  initialize,
  type Journey,
  MemoryOAuthClient,
  type RunningMcpServer,
  startCallbackListener,
  startExampleMcpServer,
  whoami,
} from '../support/mcp-journey.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * MCP end to end, with nothing written by us on the client side: the MCP SDK's own `Client` and
 * `StreamableHTTPClientTransport` connect to the example MCP server (examples/mcp-server), get a
 * 401, discover the reference authorization server from the protected resource metadata, identify
 * themselves (Dynamic Client Registration, or a Client ID Metadata Document), send the user to
 * consent in Chromium, and call a tool with a token that only that MCP server accepts.
 */
const CHROMIUM = '/usr/bin/chromium';
const onCi = process.env.CI === 'true' || process.env.CI === '1';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (onCi) throw new Error(`${CHROMIUM} is required on CI but is missing (apt-get install chromium)`);
  process.stderr.write(`skipping MCP journey suite: ${CHROMIUM} not found (apt-get install chromium)\n`);
  countSkippedSuite('the MCP journey suite', `${CHROMIUM} not found`);
}

let browser: Browser;
let context: BrowserContext;
let callback: { url: string; close(): Promise<void> };

before(async () => {
  if (!haveChromium) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  callback = await startCallbackListener();
});
after(async () => {
  await browser?.close();
  await callback?.close();
});

describe('an MCP client meets an MCP server protected by the reference server', { skip: !haveChromium }, () => {
  let authorizationServer: TestServer;
  let serverA: RunningMcpServer;
  let serverB: RunningMcpServer;
  let journey: Journey;

  before(async () => {
    authorizationServer = await startTestServer();
    serverA = await startExampleMcpServer(authorizationServer.url, 'MCP server A');
    serverB = await startExampleMcpServer(authorizationServer.url, 'MCP server B');
    context = await browser.newContext();
  });
  after(async () => {
    await journey?.client.close();
    await context?.close();
    await serverA?.close();
    await serverB?.close();
    await authorizationServer?.stop();
  });

  it('answers a request without a token with 401 and where its metadata is (RFC 9728 §5.1)', async () => {
    const response = await initialize(serverA.url);
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    const metadataUrl = `${new URL(serverA.url).origin}/.well-known/oauth-protected-resource/mcp`;
    assert.ok(challenge.includes(`resource_metadata="${metadataUrl}"`), challenge);
    const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    assert.equal(metadata.resource, serverA.url, 'the resource is the URL the client used');
    assert.deepEqual(metadata.authorization_servers, [authorizationServer.url]);
    const asMetadata = (await (
      await fetch(`${authorizationServer.url}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    assert.equal(asMetadata.issuer, authorizationServer.url, 'the issuer is the string the MCP server names');
  });

  it('1. discovers the authorization server, registers by DCR, consents in Chromium and calls the tool', async () => {
    journey = await connectWithConsent(context, serverA.url, new MemoryOAuthClient(callback.url));
    const { provider, recorder, consent, callbackUrl } = journey;

    // Discovery went 401 -> protected resource metadata -> authorization server metadata -> /register.
    assert.equal(recorder.to('/.well-known/oauth-protected-resource/mcp').length > 0, true);
    assert.equal(recorder.to('/.well-known/oauth-authorization-server').length > 0, true);
    assert.equal(recorder.to('/register').length, 1, 'one registration');
    const clientId = (provider.information as { client_id: string }).client_id;

    const authorizationUrl = provider.authorizationUrl!;
    assert.equal(authorizationUrl.searchParams.get('resource'), serverA.url);
    assert.match(authorizationUrl.searchParams.get('scope') ?? '', /\bmcp:tools\b/);
    assert.match(consent, /MCP journey client/);
    assert.equal(callbackUrl.searchParams.get('iss'), authorizationServer.url, 'RFC 9207 iss on the callback');

    const me = await whoami(journey.client);
    assert.equal(me.client_id, clientId);
    assert.ok(typeof me.subject === 'string' && me.subject.length > 0, 'the user is the subject');
    assert.equal(me.resource, serverA.url);
    assert.ok((me.scopes as string[]).includes('mcp:tools'));

    // The token is an RFC 9068 JWT whose audience is MCP server A.
    const token = provider.savedTokens!.access_token;
    assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
    const claims = decodeJwt(token);
    assert.equal(claims.iss, authorizationServer.url);
    assert.deepEqual([claims.aud].flat(), [serverA.url]);
    assert.equal(claims.client_id, clientId);
  });

  it('3. a token for MCP server A is refused by MCP server B', async () => {
    assert.ok(journey, 'journey 1 ran');
    const token = journey.provider.savedTokens!.access_token;
    assert.equal((await initialize(serverA.url, token)).status, 200, 'the token works where it was issued for');
    const refused = await initialize(serverB.url, token);
    assert.equal(refused.status, 401);
    const challenge = refused.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="invalid_token"/);
    assert.ok(challenge.includes(`${new URL(serverB.url).origin}/.well-known/oauth-protected-resource/mcp`), challenge);
  });

  it('4. a refresh keeps the token bound to A', async () => {
    assert.ok(journey, 'journey 1 ran');
    const { provider, recorder } = journey;
    const before = provider.savedTokens!;
    assert.ok(before.refresh_token, 'a refresh token was issued');
    // The access token is gone (expired, or revoked): the SDK refreshes on the 401 and retries.
    provider.savedTokens = { ...before, access_token: 'no-longer-valid' };
    const me = await whoami(journey.client);
    assert.equal(me.resource, serverA.url);

    const refreshes = recorder.to('/token').filter((request) => request.body.includes('grant_type=refresh_token'));
    assert.equal(refreshes.length, 1, 'one refresh');
    assert.equal(new URLSearchParams(refreshes[0]!.body).get('resource'), serverA.url, 'the SDK re-sent the resource');
    const after = provider.savedTokens!;
    assert.notEqual(after.access_token, before.access_token);
    assert.notEqual(after.refresh_token, before.refresh_token, 'a public client gets a new refresh token each time');
    assert.deepEqual([decodeJwt(after.access_token).aud].flat(), [serverA.url]);
    assert.equal((await initialize(serverB.url, after.access_token)).status, 401, 'still not a token for B');
  });
});

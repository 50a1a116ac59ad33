import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { decodeJwt } from 'jose';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { countSkippedSuite } from '../../../oauth-dcr/test/support/services.js';
import {
  type DocumentHost,
  type SpawnedServer,
  spawnReferenceServer,
  startDocumentHost,
} from '../support/local-documents.js';
import {
  CHROMIUM_ARGS,
  connectWithConsent,
  MemoryOAuthClient,
  type RunningMcpServer,
  startCallbackListener,
  startExampleMcpServer,
  whoami,
} from '../support/mcp-journey.js';

/**
 * The MCP journey of mcp-journey.test.ts, with the client identified by a Client ID Metadata
 * Document instead of registering: the MCP SDK client sets `clientMetadataUrl`, the document is
 * served over real https from a local test CA, and the reference server runs as `serve` would in
 * development (DCR_FETCH_ALLOW for loopback, the CA trusted through NODE_EXTRA_CA_CERTS).
 */
const CHROMIUM = '/usr/bin/chromium';
const onCi = process.env.CI === 'true' || process.env.CI === '1';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (onCi) throw new Error(`${CHROMIUM} is required on CI but is missing (apt-get install chromium)`);
  process.stderr.write(
    `skipping MCP journey (metadata document) suite: ${CHROMIUM} not found (apt-get install chromium)\n`,
  );
  countSkippedSuite('the MCP journey with a metadata document', `${CHROMIUM} not found`);
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

describe('the same journey with a Client ID Metadata Document', { skip: !haveChromium }, () => {
  let documents: DocumentHost | undefined;
  let authorizationServer: SpawnedServer;
  let mcpServer: RunningMcpServer;
  let client: Client | undefined;

  before(async () => {
    const host = await startDocumentHost();
    if ('skip' in host) {
      countSkippedSuite('the MCP journey with a metadata document', host.skip);
      return;
    }
    documents = host;
    authorizationServer = await spawnReferenceServer(documents.certificate);
    mcpServer = await startExampleMcpServer(authorizationServer.url);
    context = await browser.newContext();
  });
  after(async () => {
    await client?.close();
    await context?.close();
    await mcpServer?.close();
    await authorizationServer?.stop();
    await documents?.close();
  });

  it('2. identifies itself by its document URL: no /register call, and the tool call succeeds', async (t) => {
    if (!documents) return t.skip('no local https (openssl missing)');
    const documentUrl = documents.serveDocument('/mcp-client.json', {
      client_name: 'MCP journey client',
      redirect_uris: [callback.url],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const journey = await connectWithConsent(context, mcpServer.url, new MemoryOAuthClient(callback.url, documentUrl));
    client = journey.client;

    assert.equal(journey.recorder.to('/register').length, 0, 'no registration');
    assert.equal(journey.provider.authorizationUrl!.searchParams.get('client_id'), documentUrl);
    assert.ok(documents.hits('/mcp-client.json') >= 1, 'the authorization server fetched the document');
    assert.ok(journey.consent.includes(new URL(documentUrl).host), 'the consent page names the document host');

    const me = await whoami(journey.client);
    assert.equal(me.client_id, documentUrl);
    assert.equal(me.resource, mcpServer.url);
    assert.deepEqual([decodeJwt(journey.provider.savedTokens!.access_token).aud].flat(), [mcpServer.url]);
  });
});

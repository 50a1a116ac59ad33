import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { authorizationUrl, pkcePair } from '../support/oauth-flow.js';
import {
  documentFixture,
  startDocumentHost,
  spawnReferenceServer,
  type DocumentHost,
  type SpawnedServer,
} from '../support/local-documents.js';
import { DEMO_PASSWORD, DEMO_USERNAME } from '../support/reference-server.js';
import { countSkippedSuite } from '../../../oauth-dcr/test/support/services.js';
import { CHROMIUM, launchChromium } from '../support/chromium.js';

/**
 * What a user sees of a client identified by a Client ID Metadata Document, in a real browser
 * (Debian's chromium through playwright-core): the host of its client_id URL next to its
 * self-asserted name, marked "identified by its website" and never "verified"; the host when it
 * has no name; the redirect's host; a warning when every redirect goes to localhost; the
 * resources asked for; and a name that poses as another web address never shown as the name
 * (CIMD checklist items 25 and test 15; CIMD §6.4; MCP security considerations).
 * Screenshots go to test-artifacts/.
 */
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const onCi = process.env.CI === 'true' || process.env.CI === '1';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (onCi) throw new Error(`${CHROMIUM} is required on CI but is missing (apt-get install chromium)`);
  process.stderr.write(`skipping the CIMD consent suite: ${CHROMIUM} not found (apt-get install chromium)\n`);
  countSkippedSuite('the CIMD consent suite', `${CHROMIUM} not found`);
}
const documents = haveChromium ? await startDocumentHost() : { skip: `${CHROMIUM} not found` };
if (haveChromium && 'skip' in documents) countSkippedSuite('the CIMD consent suite', documents.skip);

/** Redirects as Claude Code's document lists them: loopback, no port (RFC 8252 §7.3). */
const LOOPBACK_ONLY = ['http://localhost/callback', 'http://127.0.0.1/callback'];

describe('the consent page for a Client ID Metadata Document client', { skip: 'skip' in documents }, () => {
  const host = documents as DocumentHost;
  let server: SpawnedServer;
  let browser: Browser;
  let context: BrowserContext;
  let callbackServer: Server;
  let callbackPort: number;
  /** host:port of the document host, as the page must show it. */
  let website: string;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await spawnReferenceServer(host.certificate);
    website = new URL(host.origin).host;
    callbackServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Client</title><p>The client received the authorization response.</p>');
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    callbackPort = (callbackServer.address() as AddressInfo).port;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 800, height: 900 } });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await new Promise((resolve) => callbackServer?.close(resolve));
    await server?.stop();
    await host.close();
  });

  const callback = () => `http://127.0.0.1:${callbackPort}/callback`;
  const screenshot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `consent-cimd-${name}.png`), fullPage: true });

  function startUrl(clientId: string, extra: Record<string, string> = {}): string {
    return authorizationUrl(server.url, {
      client_id: clientId,
      redirect_uri: callback(),
      state: 'cimd-state',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      ...extra,
    }).href;
  }

  /** Opens the authorization URL (signed in by the first test) and returns the consent text. */
  async function consentText(page: Page, url: string): Promise<string> {
    await page.goto(url);
    await page.locator('button[value=approve]').waitFor();
    return page.locator('main').innerText();
  }

  it('shows the website next to the name, the redirect host and a localhost warning; approving sends a code (test 15)', async () => {
    const clientId = host.serveDocument('/oauth/claude-code-client-metadata', documentFixture('claude-code'));
    const page = await context.newPage();
    await page.goto(startUrl(clientId));
    await page.locator('input[name=username]').waitFor();
    const login = await page.locator('main').innerText();
    assert.match(login, /Claude Code/);
    assert.ok(login.includes(website), 'the sign-in page names the website too');
    await page.fill('input[name=username]', DEMO_USERNAME);
    await page.fill('input[name=password]', DEMO_PASSWORD);
    await page.click('button[type=submit]');
    await page.locator('button[value=approve]').waitFor();
    const consent = await page.locator('main').innerText();
    await screenshot(page, '1-loopback-only');

    assert.match(consent, /Allow Claude Code to access your account\?/);
    assert.match(consent, /Identified by its website/);
    assert.ok(consent.includes(website), 'the host of the client_id URL');
    assert.equal(await page.locator('.website').first().innerText(), website, 'next to the name, under the heading');
    assert.doesNotMatch(consent, /\bverified\b/i, 'never called verified');
    assert.match(consent, new RegExp(`an app on this device \\(127\\.0\\.0\\.1:${callbackPort}\\)`));
    const warning = await page.locator('.localhost-only').innerText();
    assert.match(warning, /only send you back to an app on this device/);
    assert.ok(warning.includes(website));

    await Promise.all([page.waitForURL((url) => url.href.startsWith(callback())), page.click('button[value=approve]')]);
    const landed = new URL(page.url());
    assert.ok(landed.searchParams.get('code'));
    assert.equal(landed.searchParams.get('state'), 'cimd-state');
    assert.equal(landed.searchParams.get('iss'), server.url);
    await page.close();
  });

  it('shows the website as the name when the document has no client_name', async () => {
    const clientId = host.serveDocument('/clients/nameless.json', {
      redirect_uris: LOOPBACK_ONLY,
      token_endpoint_auth_method: 'none',
    });
    const page = await context.newPage();
    const consent = await consentText(page, startUrl(clientId));
    await screenshot(page, '2-no-name');
    assert.ok(consent.includes(`Allow ${website} to access your account?`), consent);
    assert.doesNotMatch(consent, /unnamed/i);
    await page.close();
  });

  it('names the host of an https redirect, and gives no localhost warning for it', async () => {
    // VS Code's document lists a loopback redirect and https://vscode.dev/redirect.
    const clientId = host.serveDocument('/oauth/client-metadata.json', documentFixture('vscode'));
    const page = await context.newPage();
    const consent = await consentText(page, startUrl(clientId, { redirect_uri: 'https://vscode.dev/redirect' }));
    assert.match(consent, /Allow Visual Studio Code to access your account\?/);
    assert.match(consent, /Sends you to\s+vscode\.dev/);
    assert.equal(await page.locator('.localhost-only').count(), 0);
    await page.close();
  });

  // The warning is about every redirect the document lists, not only the one in use.
  it('gives no localhost warning on a loopback redirect when the document also lists a web redirect', async () => {
    const clientId = host.serveDocument('/oauth/client-metadata.json', documentFixture('vscode'));
    const page = await context.newPage();
    try {
      // Registered as http://127.0.0.1:33418/; any port is the same redirect on loopback (RFC 8252 §7.3).
      await consentText(page, startUrl(clientId, { redirect_uri: `http://127.0.0.1:${callbackPort}/` }));
      assert.equal(await page.locator('.localhost-only').count(), 0);
    } finally {
      await page.close();
    }
  });

  it('shows the resources the client asks a token for (RFC 8707)', async () => {
    const clientId = host.serveDocument('/clients/mcp.json', {
      client_name: 'Acme MCP client',
      redirect_uris: LOOPBACK_ONLY,
      token_endpoint_auth_method: 'none',
    });
    const page = await context.newPage();
    const consent = await consentText(page, startUrl(clientId, { resource: 'https://mcp.acme.example/mcp' }));
    await screenshot(page, '3-resource');
    assert.match(consent, /For use at\s+https:\/\/mcp\.acme\.example\/mcp/);
    await page.close();
  });

  describe('a name that looks like another web address is never shown as the name', () => {
    const lookAlikes: Array<[string, string]> = [
      ['a host name', 'accounts.google.com'],
      ['a URL', 'https://github.com/login'],
      ['a host inside a phrase', 'Sign in to login.microsoftonline.com'],
      ['fullwidth letters and dot', 'ｇｏｏｇｌｅ．ｃｏｍ'],
      ['a Cyrillic look-alike letter', 'аpple.com'],
      ['a right-to-left override', '\u202emoc.elgoog'],
      ['an IP address that is not its host', '10.0.0.1'],
    ];
    for (const [index, [what, name]] of lookAlikes.entries()) {
      it(what, async () => {
        const clientId = host.serveDocument(`/clients/look-alike-${index}.json`, {
          client_name: name,
          redirect_uris: LOOPBACK_ONLY,
          token_endpoint_auth_method: 'none',
        });
        const page = await context.newPage();
        const consent = await consentText(page, startUrl(clientId));
        const heading = await page.locator('h1').innerText();
        assert.equal(heading, `Allow ${website} to access your account?`, `${what}: the heading names the website`);
        const notice = await page.locator('.look-alike').innerText();
        assert.match(notice, /It calls itself/);
        assert.ok(notice.includes(`identified by ${website}`), notice);
        assert.doesNotMatch(consent, /[\u202a-\u202e\u2066-\u2069]/, 'no direction overrides reach the page');
        if (what === 'a host name') await screenshot(page, '4-look-alike');
        await page.close();
      });
    }

    it('an ordinary name, and a name naming its own host, are shown as they are', async () => {
      const document = { redirect_uris: LOOPBACK_ONLY, token_endpoint_auth_method: 'none' };
      const plain = host.serveDocument('/clients/plain.json', { ...document, client_name: 'Acme Desktop 2.1' });
      // Reached by its IP address, the document's host is 127.0.0.1, and its name may say so.
      const byAddress = host.urlOf('/clients/own-host.json').replace('//localhost:', '//127.0.0.1:');
      host.serve('/clients/own-host.json', {
        body: { ...document, client_id: byAddress, client_name: 'Acme (127.0.0.1)' },
      });
      for (const [clientId, name] of [
        [plain, 'Acme Desktop 2.1'],
        [byAddress, 'Acme (127.0.0.1)'],
      ] as const) {
        const page = await context.newPage();
        await consentText(page, startUrl(clientId));
        assert.equal(await page.locator('h1').innerText(), `Allow ${name} to access your account?`);
        assert.equal(await page.locator('.look-alike').count(), 0, name);
        await page.close();
      }
    });
  });

  it('shows why a document was refused on the error page, with no way forward', async () => {
    const clientId = host.serveDocument('/clients/mismatch.json', {
      client_id: 'https://claude.ai/oauth/claude-code-client-metadata',
      client_name: 'Claude Code',
      redirect_uris: LOOPBACK_ONLY,
      token_endpoint_auth_method: 'none',
    });
    const page = await context.newPage();
    const response = await page.goto(startUrl(clientId));
    assert.ok((response?.status() ?? 0) >= 400);
    assert.ok(page.url().startsWith(server.url), 'no redirect');
    const text = await page.locator('main').innerText();
    await screenshot(page, '5-refused-document');
    assert.match(text, /client_id/);
    assert.match(text, /invalid_client/);
    assert.equal(await page.locator('form').count(), 0);
    await page.close();
  });
});

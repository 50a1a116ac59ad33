import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { authorizationUrl, pkcePair, registerClient } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, DEMO_USERNAME, startTestServer, type TestServer } from '../support/reference-server.js';
import { countSkippedSuite } from '../../../oauth-dcr/test/support/services.js';
import { CHROMIUM, launchChromium } from '../support/chromium.js';

/**
 * A real browser (Debian's chromium, driven by playwright-core) through the login and consent
 * pages: approve gives the client a code with state and iss; deny gives access_denied; a login
 * form posted from another site is refused; an impossible redirect port is an error page.
 * Screenshots of every page go to test-artifacts/ for a human to look at.
 */
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const onCi = process.env.CI === 'true' || process.env.CI === '1';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (onCi) throw new Error(`${CHROMIUM} is required on CI but is missing (apt-get install chromium)`);
  process.stderr.write(`skipping browser suite: ${CHROMIUM} not found (apt-get install chromium)\n`);
  countSkippedSuite('the browser suite', `${CHROMIUM} not found`);
}

describe('login and consent in a real browser', { skip: !haveChromium }, () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let callbackServer: Server;
  let callbackUrl: string;
  let client: Record<string, any>;
  /** What the "attacker's site" (the callback server under another host name) serves at /attack. */
  let attackPage = '';

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    // The "native app" listening on loopback for the redirect, as a desktop client would.
    callbackServer = createServer((req, res) => {
      if (req.url === '/attack') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(attackPage);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Client</title><p>The client received the authorization response.</p>');
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
    client = await registerClient(server.url, {
      client_name: 'Acme Desktop',
      redirect_uris: [callbackUrl],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'files:read files:write',
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 800, height: 760 } });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await new Promise((resolve) => callbackServer?.close(resolve));
    await server?.stop();
  });

  const screenshot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `browser-${name}.png`), fullPage: true });

  function startUrl(state: string): string {
    return authorizationUrl(server.url, {
      client_id: client.client_id,
      redirect_uri: callbackUrl,
      state,
      scope: 'files:read',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }).href;
  }

  it('signs in, shows the consent page, and approving sends a code with state and iss', async () => {
    const page = await context.newPage();
    await page.goto(startUrl('first-run'));
    await assert.doesNotReject(page.locator('form input[type=text][name=username]').waitFor());
    assert.equal(await page.locator('form input[type=password]').count(), 1);
    assert.equal(await page.locator('form button[type=submit]').count(), 1);
    await screenshot(page, '1-login');

    await page.fill('input[name=username]', DEMO_USERNAME);
    await page.fill('input[name=password]', 'not the password');
    await page.click('button[type=submit]');
    await page.locator('[role=alert]').waitFor();
    await screenshot(page, '2-login-failed');

    await page.fill('input[name=password]', DEMO_PASSWORD);
    await page.click('button[type=submit]');
    await page.locator('button[value=approve]').waitFor();
    const consent = await page.locator('main').innerText();
    assert.match(consent, /Acme Desktop/);
    assert.match(consent, /Self-registered · unverified/);
    assert.match(consent, /files:read/);
    assert.doesNotMatch(consent, /files:write/, 'only the requested scope is shown');
    assert.match(consent, new RegExp(`an app on this device \\(127\\.0\\.0\\.1:${new URL(callbackUrl).port}\\)`));
    assert.match(consent, new RegExp(DEMO_USERNAME));
    await screenshot(page, '3-consent');

    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(callbackUrl)),
      page.click('button[value=approve]'),
    ]);
    const landed = new URL(page.url());
    assert.ok(landed.searchParams.get('code'));
    assert.equal(landed.searchParams.get('state'), 'first-run');
    assert.equal(landed.searchParams.get('iss'), server.url);
    await screenshot(page, '4-client-callback');
    await page.close();
  });

  it('goes straight to consent on a second run, and denying sends access_denied', async () => {
    const page = await context.newPage();
    await page.goto(startUrl('second-run'));
    await page.locator('button[value=deny]').waitFor();
    await Promise.all([page.waitForURL((url) => url.href.startsWith(callbackUrl)), page.click('button[value=deny]')]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get('error'), 'access_denied');
    assert.equal(landed.searchParams.get('state'), 'second-run');
    assert.equal(landed.searchParams.get('iss'), server.url);
    assert.equal(landed.searchParams.get('code'), null);
    await page.close();
  });

  it('shows an error page, not a redirect, for a redirect URI the client did not register', async () => {
    const page = await context.newPage();
    const response = await page.goto(
      authorizationUrl(server.url, {
        client_id: client.client_id,
        redirect_uri: 'https://attacker.example/steal',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }).href,
    );
    assert.equal(response?.status(), 400);
    assert.ok(page.url().startsWith(server.url));
    await screenshot(page, '5-error');
    await page.close();
  });

  it('shows an error page, not a redirect, for a loopback redirect URI on an impossible port', async () => {
    const page = await context.newPage();
    for (const port of ['65536', '99999', '0']) {
      const response = await page.goto(
        authorizationUrl(server.url, {
          client_id: client.client_id,
          redirect_uri: `http://127.0.0.1:${port}/callback`,
          state: 'bad-port',
          code_challenge: pkcePair().challenge,
          code_challenge_method: 'S256',
        }).href,
      );
      assert.equal(response?.status(), 400, `port ${port}`);
      assert.ok(page.url().startsWith(server.url));
      assert.match(await page.locator('main').innerText(), /redirect_uri/);
      assert.equal(await page.locator('form').count(), 0);
    }
    await page.close();
  });

  it('refuses a login form posted from another site, even with the right token (SameSite=Strict login-CSRF cookie)', async () => {
    // The victim's browser has the login page open (so it holds the login-CSRF cookie).
    const victim = await browser.newContext();
    const page = await victim.newPage();
    await page.goto(startUrl('victim'));
    const fields = await page
      .locator('form input[type=hidden]')
      .evaluateAll((inputs) =>
        inputs.map((input) => [input.getAttribute('name') ?? '', input.getAttribute('value') ?? '']),
      );
    // Another site (localhost is not the same site as 127.0.0.1) posts the attacker's credentials
    // with the victim's own token, as if it had leaked: the browser does not send the cookie.
    const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    attackPage = `<!doctype html><title>Attacker</title><form method="post" action="${escapeAttribute(`${server.url}/authorize/login`)}">${fields
      .map(
        ([name, value]) => `<input type="hidden" name="${escapeAttribute(name!)}" value="${escapeAttribute(value!)}">`,
      )
      .join(
        '',
      )}<input name="username" value="${escapeAttribute(DEMO_USERNAME)}"><input name="password" value="${escapeAttribute(DEMO_PASSWORD)}"></form><script>document.forms[0].submit()</script>`;
    const attackOrigin = `http://localhost:${new URL(callbackUrl).port}`;
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${server.url}/authorize/login`),
      page.goto(`${attackOrigin}/attack`),
    ]);
    assert.equal(response.status(), 403);
    assert.equal(
      (await victim.cookies(server.url)).some((cookie) => cookie.name === 'dcr_session'),
      false,
      'the victim was not signed in',
    );
    await victim.close();
  });
});

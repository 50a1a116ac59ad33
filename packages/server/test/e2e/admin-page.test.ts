import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword } from '../../src/passwords.js';
import { obtainTokens, tokenRequest } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, DEMO_USERNAME, startTestServer, type TestServer } from '../support/reference-server.js';
import { countSkippedSuite } from '../../../oauth-dcr/test/support/services.js';
import { CHROMIUM, launchChromium } from '../support/chromium.js';

/**
 * The admin page in a real browser (Debian's chromium through playwright-core): an operator
 * (DCR_OPERATORS) signs in, sees clients with tier, last use and redirect hosts, disables a client
 * (its refresh token and RFC 7592 access stop working), creates an initial access token that then
 * admits a registration while open registration is off, and reads the audit trail. A signed-in
 * user who is not an operator gets 403 and no data; a POST without the session's CSRF token, with
 * a wrong one, or from another site's page changes nothing. Screenshots go to test-artifacts/.
 */
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const onCi = process.env.CI === 'true' || process.env.CI === '1';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (onCi) throw new Error(`${CHROMIUM} is required on CI but is missing (apt-get install chromium)`);
  process.stderr.write(`skipping admin page suite: ${CHROMIUM} not found (apt-get install chromium)\n`);
  countSkippedSuite('the admin page suite', `${CHROMIUM} not found`);
}

const OPERATOR = DEMO_USERNAME;
const NORMAL_USER = 'bob';
const NORMAL_PASSWORD = 'bob has no operator rights';

describe('the admin page in a real browser', { skip: !haveChromium }, () => {
  let server: TestServer;
  let browser: Browser;
  let operatorContext: BrowserContext;
  let callbackServer: Server;
  let callbackUrl: string;
  /** A confidential client with a refresh token, admitted by an initial access token. */
  let client: Record<string, any>;
  let refreshToken: string;
  /** What the "attacker's site" (the callback server under another host name) serves at /attack. */
  let attackPage = '';

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer({
      env: { DCR_OPERATORS: `${OPERATOR},someone-else`, DCR_OPEN_REGISTRATION: 'false' },
    });
    await server.storage.users.upsertUser(NORMAL_USER, await hashPassword(NORMAL_PASSWORD), now());
    callbackServer = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(req.url === '/attack' ? attackPage : '<!doctype html><title>Client</title><p>Callback.</p>');
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
    // Open registration is off: the first clients get in with a token minted through the library.
    const { token } = await server.registration.initialAccessTokens.create({ label: 'test setup' });
    client = await register(token, {
      client_name: 'Acme <b>Desktop</b>',
      redirect_uris: [callbackUrl, 'cursor://anysphere.cursor-retrieval/oauth/callback'],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    refreshToken = (await obtainTokens(server.url, client)).tokens.refresh_token;
    assert.ok(refreshToken, 'the client holds a refresh token before it is disabled');
    browser = await launchChromium();
    operatorContext = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  });

  after(async () => {
    await operatorContext?.close();
    await browser?.close();
    await new Promise((resolve) => callbackServer?.close(resolve));
    await server?.stop();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const screenshot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `admin-${name}.png`), fullPage: true });
  const clientPath = () => `/admin/clients/${encodeURIComponent(client.client_id)}`;

  async function register(token: string | undefined, metadata: Record<string, unknown>) {
    const response = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(metadata),
    });
    const body = (await response.json()) as Record<string, any>;
    return Object.assign(body, { status: response.status });
  }

  async function signIn(context: BrowserContext, username: string, password: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${server.url}/admin`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await Promise.all([page.waitForLoadState(), page.click('button[type=submit]')]);
    return page;
  }

  const storedClient = () => server.registration.store.findClient(client.client_id);

  it('shows an operator sign-in form, with the page headers, to a browser without a session', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${server.url}/admin`);
    assert.equal(response?.status(), 200);
    const headers = response!.headers();
    assert.match(
      headers['content-security-policy'] ?? '',
      /default-src 'none'.*form-action 'self'.*frame-ancestors 'none'/,
    );
    assert.equal(headers['cache-control'], 'no-store');
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(await page.locator('form[action$="/admin/login"] input[type=password]').count(), 1);
    assert.doesNotMatch(await page.content(), new RegExp(client.client_id), 'no client is shown before sign-in');
    await screenshot(page, '1-sign-in');
    await page.close();
  });

  it('refuses a signed-in user who is not an operator with 403 and none of the data', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, NORMAL_USER, NORMAL_PASSWORD);
    assert.match(await page.locator('main').innerText(), /Not an operator/);
    for (const path of ['/admin', clientPath(), '/admin/audit', '/admin/initial-access-tokens']) {
      const response = await page.goto(`${server.url}${path}`);
      assert.equal(response?.status(), 403, path);
      const html = await page.content();
      assert.doesNotMatch(html, new RegExp(client.client_id), `${path} shows no client`);
      assert.doesNotMatch(html, /Acme/, `${path} shows no client name`);
    }
    await screenshot(page, '2-not-an-operator');
    // Even with its own session's valid CSRF token, a POST by a non-operator changes nothing.
    const csrfToken = await page.locator('input[name=csrf_token]').first().getAttribute('value');
    assert.ok(csrfToken);
    const post = await context.request.post(`${server.url}${clientPath()}/disable`, {
      form: { csrf_token: csrfToken },
      maxRedirects: 0,
    });
    assert.equal(post.status(), 403);
    assert.equal((await storedClient())?.disabledAt, undefined);
    await context.close();
  });

  it('lets an operator sign in and shows the client with its tier, last use and redirect hosts', async () => {
    const page = await signIn(operatorContext, OPERATOR, DEMO_PASSWORD);
    assert.equal(new URL(page.url()).pathname, '/admin');
    const row = page.locator(`tr[data-client-id="${client.client_id}"]`);
    const text = await row.innerText();
    assert.match(text, /Acme <b>Desktop<\/b>/, 'the name is shown as text, escaped');
    assert.match(text, /Registered with an access token/);
    assert.match(text, /initial_access_token/);
    assert.match(text, new RegExp(`127\\.0\\.0\\.1:${new URL(callbackUrl).port}`));
    assert.match(text, /cursor:\/\/anysphere\.cursor-retrieval/);
    assert.match(text, /enabled/);
    assert.equal(await page.locator('b').count(), 0, 'no markup from the client name');
    await screenshot(page, '3-clients');
    await page.close();
  });

  it('refuses a POST without the CSRF token, or with a wrong one, and changes nothing', async () => {
    const url = `${server.url}${clientPath()}/disable`;
    const forms: Array<Record<string, string>> = [{}, { csrf_token: 'not-the-token' }, { csrf_token: '' }];
    for (const form of forms) {
      const response = await operatorContext.request.post(url, { form, maxRedirects: 0 });
      assert.equal(response.status(), 403, JSON.stringify(form));
    }
    const deletion = await operatorContext.request.post(`${server.url}${clientPath()}/delete`, {
      form: { csrf_token: 'x'.repeat(43) },
      maxRedirects: 0,
    });
    assert.equal(deletion.status(), 403);
    const stored = await storedClient();
    assert.ok(stored, 'the client still exists');
    assert.equal(stored.disabledAt, undefined, 'the client is still enabled');
    // GET changes nothing either.
    const get = await operatorContext.request.get(url, { maxRedirects: 0 });
    assert.notEqual(get.status(), 303);
    assert.equal((await storedClient())?.disabledAt, undefined);
  });

  it('cannot be made to disable a client by a form on another site, even one holding the token', async () => {
    const page = await operatorContext.newPage();
    await page.goto(`${server.url}${clientPath()}`);
    const csrfToken = await page.locator('form[action$="/disable"] input[name=csrf_token]').getAttribute('value');
    assert.ok(csrfToken);
    // localhost is not the same site as 127.0.0.1: the browser sends no Lax session cookie with
    // this POST, and labels it Sec-Fetch-Site: cross-site.
    attackPage = `<!doctype html><title>Attacker</title><form method="post" action="${server.url}${clientPath()}/disable"><input type="hidden" name="csrf_token" value="${csrfToken}"></form><script>document.forms[0].submit()</script>`;
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${server.url}${clientPath()}/disable`),
      page.goto(`http://localhost:${new URL(callbackUrl).port}/attack`),
    ]);
    assert.equal(response.status(), 403);
    assert.equal((await storedClient())?.disabledAt, undefined, 'the client is still enabled');
    await page.close();
  });

  it('disables a client: its refresh token and RFC 7592 access stop working; enabling restores it', async () => {
    const page = await operatorContext.newPage();
    await page.goto(`${server.url}${clientPath()}`);
    await Promise.all([page.waitForURL(/done=disabled/), page.click('form[action$="/disable"] button')]);
    assert.match(await page.locator('[role=status]').innerText(), /disabled/);
    assert.equal(await page.locator('form[action$="/enable"] button').count(), 1);
    await screenshot(page, '4-disabled');
    assert.ok((await storedClient())?.disabledAt, 'the store records the client as disabled');

    const refresh = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    assert.ok(refresh.status === 400 || refresh.status === 401, `refresh answered ${refresh.status}`);
    assert.ok(['invalid_client', 'invalid_grant'].includes(refresh.body.error), refresh.body.error);
    const management = await fetch(client.registration_client_uri, {
      headers: { authorization: `Bearer ${client.registration_access_token}` },
    });
    assert.equal(management.status, 401);
    assert.equal(((await management.json()) as { error: string }).error, 'invalid_token');

    await Promise.all([page.waitForURL(/done=enabled/), page.click('form[action$="/enable"] button')]);
    assert.equal((await storedClient())?.disabledAt, undefined);
    const again = await fetch(client.registration_client_uri, {
      headers: { authorization: `Bearer ${client.registration_access_token}` },
    });
    assert.equal(again.status, 200, 'an enabled client manages its registration again');
    await page.close();
  });

  it('shows the audit trail with the operator as actor, filtered by client and type', async () => {
    const page = await operatorContext.newPage();
    const query = new URLSearchParams({ client: client.client_id, type: 'client.disabled' });
    const response = await page.goto(`${server.url}/admin/audit?${query}`);
    assert.equal(response?.status(), 200);
    const rows = page.locator('tbody tr');
    assert.equal(await rows.count(), 1);
    const text = await rows.first().innerText();
    assert.match(text, /client\.disabled/);
    assert.match(text, new RegExp(OPERATOR));
    await screenshot(page, '5-audit');
    const html = await page.content();
    for (const secret of [client.client_secret, client.registration_access_token, refreshToken])
      assert.equal(html.includes(secret), false, 'no secret or token on the page');
    const unknown = await page.goto(`${server.url}/admin/audit?type=nonsense`);
    assert.equal(unknown?.status(), 400);
    await page.close();
  });

  it('creates an initial access token, shown once, that admits a registration while open registration is off', async () => {
    assert.equal((await register(undefined, { redirect_uris: [callbackUrl] })).status, 401, 'open registration is off');
    const page = await operatorContext.newPage();
    await page.goto(`${server.url}/admin/initial-access-tokens`);
    await page.fill('input[name=label]', 'for the new client');
    await page.fill('input[name=uses]', '1');
    await Promise.all([page.waitForLoadState(), page.click('form[action$="/admin/initial-access-tokens"] button')]);
    const token = (await page.locator('#new-token').innerText()).trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    await screenshot(page, '6-token-created');

    const admitted = await register(token, { client_name: 'Admitted', redirect_uris: [callbackUrl] });
    assert.equal(admitted.status, 201);
    assert.equal((await register(token, { redirect_uris: [callbackUrl] })).status, 401, 'one use only');

    await page.goto(`${server.url}/admin/initial-access-tokens`);
    const html = await page.content();
    assert.equal(html.includes(token), false, 'the token is never shown again');
    assert.match(await page.locator('tbody').innerText(), /for the new client[\s\S]*spent/);
    await page.close();
  });

  it('deletes a client, which then no longer registers at RFC 7592', async () => {
    const page = await operatorContext.newPage();
    await page.goto(`${server.url}${clientPath()}`);
    await Promise.all([page.waitForURL(/\/delete$/), page.click('a[href$="/delete"]')]);
    assert.ok(await storedClient(), 'the confirmation page deletes nothing');
    await screenshot(page, '7-delete-confirmation');
    await Promise.all([page.waitForURL(/done=deleted/), page.click('form[action$="/delete"] button')]);
    assert.equal(await page.locator(`tr[data-client-id="${client.client_id}"]`).count(), 0);
    assert.equal(await storedClient(), null);
    const management = await fetch(client.registration_client_uri, {
      headers: { authorization: `Bearer ${client.registration_access_token}` },
    });
    assert.equal(management.status, 401);
    await page.close();
  });
});

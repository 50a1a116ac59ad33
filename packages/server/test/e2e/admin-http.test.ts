import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CookieJar } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, DEMO_USERNAME, startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * The admin pages over plain HTTP, for what a browser test would make slow or cannot do: the
 * operator sign-in's login-CSRF and throttle, keyset paging through every client, page answers
 * for unknown clients and paths, malformed forms (never a 500), sign-out, and an empty
 * DCR_OPERATORS letting nobody in.
 */
class AdminBrowser {
  readonly jar = new CookieJar();
  constructor(readonly base: string) {}

  async get(path: string): Promise<{ status: number; html: string; headers: Headers }> {
    const response = await fetch(`${this.base}${path}`, { redirect: 'manual', headers: { cookie: this.jar.header() } });
    this.jar.store(response);
    return { status: response.status, html: await response.text(), headers: response.headers };
  }

  async post(
    path: string,
    body: URLSearchParams | Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; html: string; headers: Headers }> {
    const response = await fetch(`${this.base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.jar.header(), 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: body instanceof URLSearchParams ? body : new URLSearchParams(body),
    });
    this.jar.store(response);
    return { status: response.status, html: await response.text(), headers: response.headers };
  }

  /** Opens the sign-in form (which sets the login-CSRF cookie) and posts it. */
  async signIn(username = DEMO_USERNAME, password = DEMO_PASSWORD, headers: Record<string, string> = {}) {
    const form = await this.get('/admin');
    return this.post('/admin/login', { csrf_token: csrfToken(form.html), username, password }, headers);
  }
}

function csrfToken(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  assert.ok(match, 'the page has a CSRF token');
  return match[1]!;
}

const clientIds = (html: string) => [...html.matchAll(/data-client-id="([^"]+)"/g)].map((match) => match[1]!);

describe('the admin pages over HTTP', () => {
  let server: TestServer;
  const registered: string[] = [];

  before(async () => {
    server = await startTestServer({ env: { DCR_OPERATORS: DEMO_USERNAME } });
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: `Client ${i}`, redirect_uris: [`http://127.0.0.1:${9000 + i}/cb`] }),
      });
      assert.equal(response.status, 201);
      registered.push(((await response.json()) as { client_id: string }).client_id);
    }
  });

  after(async () => {
    await server?.stop();
  });

  it('refuses a sign-in without the login-CSRF token or from another site, and signs nobody in', async () => {
    const noToken = new AdminBrowser(server.url);
    const refused = await noToken.post('/admin/login', { username: DEMO_USERNAME, password: DEMO_PASSWORD });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.getSetCookie().length, 0, 'no session cookie');

    const crossSite = new AdminBrowser(server.url);
    const answer = await crossSite.signIn(DEMO_USERNAME, DEMO_PASSWORD, { 'sec-fetch-site': 'cross-site' });
    assert.equal(answer.status, 403);
    assert.equal((await crossSite.get('/admin')).html.includes('data-client-id'), false);
  });

  it('throttles password guessing at the operator sign-in with 429 and Retry-After', async () => {
    const guesser = new AdminBrowser(server.url);
    let last = { status: 0, headers: new Headers() };
    for (let attempt = 0; attempt < 11 && last.status !== 429; attempt++)
      last = await guesser.signIn('mallory', `guess ${attempt}`);
    assert.equal(last.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
  });

  it('pages through every client by client_id, each once, with the counts per tier', async () => {
    const operator = new AdminBrowser(server.url);
    const signedIn = await operator.signIn();
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.headers.get('location'), '/admin');
    let path: string | undefined = '/admin?limit=2';
    const seen: string[] = [];
    let pages = 0;
    while (path) {
      const page = await operator.get(path);
      assert.equal(page.status, 200);
      const ids = clientIds(page.html);
      assert.ok(ids.length <= 2);
      seen.push(...ids);
      pages++;
      const next = /<a rel="next" href="([^"]+)"/.exec(page.html)?.[1];
      path = next?.replace(/&amp;/g, '&');
      if (pages === 1) assert.match(page.html, /5 clients: anonymous 5/);
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...registered].sort());
  });

  it('answers unknown clients, unknown paths and GETs of actions with pages, changing nothing', async () => {
    const operator = new AdminBrowser(server.url);
    await operator.signIn();
    const unknownClient = await operator.get('/admin/clients/no-such-client');
    assert.equal(unknownClient.status, 404);
    assert.match(unknownClient.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(unknownClient.headers.get('cache-control'), 'no-store');
    const unknownPath = await operator.get('/admin/nothing-here');
    assert.equal(unknownPath.status, 404);
    assert.match(unknownPath.headers.get('content-security-policy') ?? '', /default-src 'none'/);

    const id = registered[0]!;
    const get = await operator.get(`/admin/clients/${id}/disable`);
    assert.equal(get.status, 404);
    assert.equal((await server.registration.store.findClient(id))?.disabledAt, undefined);
    const confirmation = await operator.get(`/admin/clients/${id}/delete`);
    assert.equal(confirmation.status, 200);
    assert.match(confirmation.html, /method="post" action="\/admin\/clients\/[^"]+\/delete"/);
    assert.ok(await server.registration.store.findClient(id), 'a GET deletes nothing');

    const page = await operator.get(`/admin/clients/${id}`);
    const token = csrfToken(page.html);
    const unknownAction = await operator.post('/admin/clients/no-such-client/disable', { csrf_token: token });
    assert.equal(unknownAction.status, 404);
    // A repeated token is an array after parsing: refused, not a 500.
    const repeated = new URLSearchParams([
      ['csrf_token', token],
      ['csrf_token', token],
    ]);
    assert.equal((await operator.post(`/admin/clients/${id}/disable`, repeated)).status, 403);
    assert.equal((await server.registration.store.findClient(id))?.disabledAt, undefined);
  });

  it('refuses a malformed initial access token form with 400 and creates nothing', async () => {
    const operator = new AdminBrowser(server.url);
    await operator.signIn();
    const page = await operator.get('/admin/initial-access-tokens');
    const before = (await server.registration.initialAccessTokens.list()).length;
    for (const uses of ['abc', '0', '-1', '1.5']) {
      const answer = await operator.post('/admin/initial-access-tokens', { csrf_token: csrfToken(page.html), uses });
      assert.equal(answer.status, 400, uses);
      assert.doesNotMatch(answer.html, /id="new-token"/);
    }
    assert.equal((await server.registration.initialAccessTokens.list()).length, before);
  });

  it('revokes an initial access token only with the CSRF token; a revoked token admits nobody', async () => {
    const { token, record } = await server.registration.initialAccessTokens.create({ label: 'to revoke' });
    const operator = new AdminBrowser(server.url);
    await operator.signIn();
    const page = await operator.get('/admin/initial-access-tokens');
    assert.match(page.html, new RegExp(`data-token-id="${record.id}"`));
    assert.equal(page.html.includes(token), false, 'a listed token never shows its value');
    const path = `/admin/initial-access-tokens/${record.id}/revoke`;
    assert.equal((await operator.post(path, {})).status, 403);
    const revoked = await operator.post(path, { csrf_token: csrfToken(page.html) });
    assert.equal(revoked.status, 303);
    assert.equal(revoked.headers.get('location'), '/admin/initial-access-tokens?done=revoked');
    assert.match((await operator.get('/admin/initial-access-tokens')).html, /revoked/);
    const registration = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9999/cb'] }),
    });
    // Open registration is on here: the revoked token is refused, not ignored (RFC 6750 §3.1).
    assert.equal(registration.status, 401);
  });

  it('signs out only with the CSRF token', async () => {
    const operator = new AdminBrowser(server.url);
    await operator.signIn();
    const page = await operator.get('/admin');
    assert.equal((await operator.post('/admin/logout', {})).status, 403);
    assert.equal((await operator.get('/admin')).html.includes('data-client-id'), true, 'still signed in');
    const out = await operator.post('/admin/logout', { csrf_token: csrfToken(page.html) });
    assert.equal(out.status, 303);
    const after = await operator.get('/admin');
    assert.equal(after.html.includes('data-client-id'), false);
    assert.match(after.html, /action="\/admin\/login"/);
  });
});

describe('the admin pages with no operators configured', () => {
  it('refuses every signed-in user', async () => {
    const server = await startTestServer({ store: 'memory' });
    try {
      const user = new AdminBrowser(server.url);
      assert.equal((await user.signIn()).status, 303);
      const page = await user.get('/admin');
      assert.equal(page.status, 403);
      assert.match(page.html, /Not an operator/);
    } finally {
      await server.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/passwords.js';
import { authorizationUrl, BrowserlessUser, parseForm, pkcePair, registerClient } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, DEMO_USERNAME, startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * Sign-in sessions (src/server/sessions.ts) through the real server: only a successful sign-in
 * creates a session, so anonymous traffic can neither fill the session table nor evict anyone,
 * and a login in progress lives in its form. The cookie rules hold: HttpOnly, SameSite, __Host-
 * on https, a new id at sign-in, and CSRF tokens on both forms (RFC 6749 §10.12).
 */
/** More than the session table holds (10 000 by default), as in the reported attack. */
const FLOOD = 10_500;
const FLOOD_CONCURRENCY = 16;
const REDIRECT_URI = 'http://127.0.0.1:4000/callback';

describe('sign-in sessions', () => {
  let server: TestServer;
  let client: Record<string, any>;

  before(async () => {
    server = await startTestServer({ store: 'memory' });
    client = await registerClient(server.url, {
      client_name: 'Session Test',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    });
  });
  after(() => server?.stop());

  function startUrl(base = server.url, state = 'st'): string {
    return authorizationUrl(base, {
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      state,
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }).href;
  }

  const setCookies = (response: Response) => response.headers.getSetCookie();

  it('an anonymous flood of GET /authorize creates no session, evicts no signed-in user, and breaks no login in progress', async () => {
    // A signed-in user: a real sign-in through the forms (stopping at consent).
    const signedIn = new BrowserlessUser();
    const login = parseForm(await (await signedIn.get(startUrl())).text());
    const signInResponse = await signedIn.post(`${server.url}/authorize/login`, {
      ...login.fields,
      username: DEMO_USERNAME,
      password: DEMO_PASSWORD,
    });
    assert.equal(signInResponse.status, 303);
    assert.match(signedIn.jar.header(), /dcr_session=/);

    // A login in progress: the page is open, the password not yet sent.
    const inProgress = new BrowserlessUser();
    const inProgressForm = parseForm(await (await inProgress.get(startUrl(server.url, 'in-progress'))).text());
    assert.match(inProgressForm.action, /\/authorize\/login$/);

    // The flood: cookieless GET /authorize with a real client, bounded, on loopback.
    const url = startUrl(server.url, 'flood');
    let sent = 0;
    let sessionCookies = 0;
    let notLoginPage = 0;
    await Promise.all(
      Array.from({ length: FLOOD_CONCURRENCY }, async () => {
        while (sent < FLOOD) {
          sent++;
          const response = await fetch(url, { redirect: 'manual' });
          await response.arrayBuffer();
          if (response.status !== 200) notLoginPage++;
          if (setCookies(response).some((cookie) => cookie.includes('dcr_session='))) sessionCookies++;
        }
      }),
    );
    assert.equal(notLoginPage, 0, 'every flood request got the login page');

    // The signed-in user is still signed in: straight to consent, and approving gives a code.
    const again = await signedIn.get(startUrl(server.url, 'after-flood'));
    const againForm = parseForm(await again.text());
    assert.match(againForm.action, /\/authorize\/decision$/, 'consent, not a login page, after the flood');
    const back = await signedIn.post(`${server.url}/authorize/decision`, { ...againForm.fields, decision: 'approve' });
    assert.equal(back.status, 303);
    const backTo = new URL(back.headers.get('location')!);
    assert.equal(backTo.searchParams.get('state'), 'after-flood');
    assert.ok(backTo.searchParams.get('code'));

    // The login in progress completes.
    const posted = await inProgress.post(`${server.url}/authorize/login`, {
      ...inProgressForm.fields,
      username: DEMO_USERNAME,
      password: DEMO_PASSWORD,
    });
    assert.equal(posted.status, 303);
    const consent = await inProgress.get(new URL(posted.headers.get('location')!, server.url).href);
    assert.equal(consent.status, 200);
    const decision = parseForm(await consent.text());
    const approved = await inProgress.post(`${server.url}/authorize/decision`, {
      ...decision.fields,
      decision: 'approve',
    });
    assert.equal(approved.status, 303);
    const landed = new URL(approved.headers.get('location')!);
    assert.equal(landed.searchParams.get('state'), 'in-progress');
    assert.ok(landed.searchParams.get('code'));

    // Why: nothing anonymous was kept on the server to begin with.
    assert.equal(sessionCookies, 0, 'no anonymous request was given a session');
  });

  it('GET /authorize without a session sets only a login-CSRF cookie; signing in sets a new HttpOnly, SameSite=Lax session id', async () => {
    const user = new BrowserlessUser();
    const planted = 'attacker-chosen-session-id';
    const page = await fetch(startUrl(), { headers: { cookie: `dcr_session=${planted}` } });
    const cookies = setCookies(page);
    assert.equal(cookies.length, 1, cookies.join('\n'));
    assert.match(cookies[0]!, /^dcr_login_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    user.jar.store(page);
    const form = parseForm(await page.text());
    // The form carries the authorization request itself and the double-submit token.
    assert.equal(form.fields.client_id, client.client_id);
    assert.equal(form.fields.redirect_uri, REDIRECT_URI);
    assert.equal(form.fields.csrf_token, /dcr_login_csrf=([^;]+)/.exec(cookies[0]!)![1]);

    const signIn = await fetch(`${server.url}/authorize/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: `${user.jar.header()}; dcr_session=${planted}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ ...form.fields, username: DEMO_USERNAME, password: DEMO_PASSWORD }),
    });
    assert.equal(signIn.status, 303);
    const session = setCookies(signIn).find((cookie) => cookie.startsWith('dcr_session='));
    assert.ok(session);
    assert.match(session, /^dcr_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    assert.ok(!session.includes(planted), 'a new session id at sign-in (fixation)');
  });

  it("refuses a login form without the login-CSRF cookie, or with another browser's", async () => {
    const victim = new BrowserlessUser();
    const form = parseForm(await (await victim.get(startUrl())).text());
    const attempt = (cookie: string | undefined) =>
      fetch(`${server.url}/authorize/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...(cookie ? { cookie } : {}), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...form.fields, username: DEMO_USERNAME, password: DEMO_PASSWORD }),
      });
    const withoutCookie = await attempt(undefined);
    assert.equal(withoutCookie.status, 403);
    assert.equal(setCookies(withoutCookie).length, 0);
    const other = new BrowserlessUser();
    await other.get(startUrl());
    const withOtherCookie = await attempt(other.jar.header());
    assert.equal(withOtherCookie.status, 403);
    assert.equal(setCookies(withOtherCookie).length, 0);
    assert.equal((await attempt(victim.jar.header())).status, 303, 'the matching pair signs in');
  });

  it('validates the carried authorization request again when the login form comes back', async () => {
    const user = new BrowserlessUser();
    const form = parseForm(await (await user.get(startUrl())).text());
    const tampered = await user.post(`${server.url}/authorize/login`, {
      ...form.fields,
      redirect_uri: 'https://attacker.example/steal',
      username: DEMO_USERNAME,
      password: DEMO_PASSWORD,
    });
    assert.equal(tampered.status, 400);
    assert.equal(tampered.headers.get('location'), null);
    assert.ok(
      !tampered.headers.getSetCookie().some((cookie) => cookie.startsWith('dcr_session=')),
      'no session for a refused request',
    );
    assert.match(await tampered.text(), /not one this application registered/);
  });

  it('a user signing in again and again evicts only their own oldest sessions', async () => {
    await server.storage.users.upsertUser('bob', await hashPassword('bobs-password'), 0);
    const bob = new BrowserlessUser('bob', 'bobs-password');
    await bob.authorize(startUrl());
    const first = new BrowserlessUser();
    await first.authorize(startUrl());
    for (let i = 0; i < 25; i++) await new BrowserlessUser().authorize(startUrl());

    const stillBob = await bob.get(startUrl());
    assert.match(await stillBob.text(), /action="\/authorize\/decision"/, "another user's session survives");
    const firstAgain = await first.get(startUrl());
    assert.match(await firstAgain.text(), /action="\/authorize\/login"/, "the same user's oldest session made room");
  });

  it('names the cookies __Host- and marks them Secure when the issuer is https (RFC 6265bis §4.1.3.2)', async () => {
    const secure = await startTestServer({ store: 'memory', env: { ISSUER: 'https://as.example' } });
    try {
      const base = `http://127.0.0.1:${secure.port}`;
      const registered = await registerClient(base, {
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'none',
      });
      const user = new BrowserlessUser();
      const page = await user.get(
        authorizationUrl(base, {
          client_id: registered.client_id,
          redirect_uri: REDIRECT_URI,
          code_challenge: pkcePair().challenge,
          code_challenge_method: 'S256',
        }).href,
      );
      assert.match(setCookies(page)[0]!, /^__Host-dcr_login_csrf=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
      const form = parseForm(await page.text());
      const signIn = await user.post(`${base}/authorize/login`, {
        ...form.fields,
        username: DEMO_USERNAME,
        password: DEMO_PASSWORD,
      });
      assert.equal(signIn.status, 303);
      const session = setCookies(signIn).find((cookie) => cookie.startsWith('__Host-dcr_session='));
      assert.ok(session);
      assert.match(session, /; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/);
      assert.doesNotMatch(session, /Domain=/i);
    } finally {
      await secure.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorizationUrl, BrowserlessUser, parseForm, pkcePair, registerClient } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, DEMO_USERNAME, startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * /authorize with a loopback redirect URI on a port no socket can have (RFC 6335 §6: 1-65535).
 * The port of a loopback redirect may differ from the registered one (RFC 8252 §7.3), but such a
 * URI is invalid, so it is refused on a page (RFC 6749 §4.1.2.1: never redirected to), before
 * anything is stored: no code, no session, never a 500.
 */
const IMPOSSIBLE_PORTS = ['65536', '99999', '0'];
/** Far enough ahead that every code issued in this test has expired by then. */
const FAR_FUTURE = Math.floor(Date.now() / 1000) + 10 * 365 * 24 * 3600;

describe('/authorize with an impossible loopback port', () => {
  let server: TestServer;
  let client: Record<string, any>;
  const signedIn = new BrowserlessUser();

  before(async () => {
    server = await startTestServer({ store: 'memory' });
    client = await registerClient(server.url, {
      client_name: 'Loopback App',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    });
    // A user signed in through the forms, stopped at consent (no code issued yet).
    const login = parseForm(await (await signedIn.get(requestUrl('http://127.0.0.1:4000/callback'))).text());
    const response = await signedIn.post(`${server.url}/authorize/login`, {
      ...login.fields,
      username: DEMO_USERNAME,
      password: DEMO_PASSWORD,
    });
    assert.equal(response.status, 303);
  });
  after(() => server?.stop());

  function requestUrl(redirectUri: string, extra: Record<string, string> = {}): string {
    return authorizationUrl(server.url, {
      client_id: client.client_id,
      redirect_uri: redirectUri,
      state: 'st',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      ...extra,
    }).href;
  }

  async function assertErrorPage(response: Response): Promise<string> {
    const body = await response.text();
    assert.equal(response.status, 400, body.slice(0, 300));
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(response.headers.get('location'), null, 'never a redirect');
    assert.match(body, /redirect_uri/);
    assert.doesNotMatch(body, /name="decision"|name="password"/, 'neither consent nor login');
    assert.equal(
      response.headers.getSetCookie().filter((cookie) => /dcr_session=/.test(cookie)).length,
      0,
      'no session',
    );
    return body;
  }

  for (const port of IMPOSSIBLE_PORTS) {
    const redirectUri = `http://127.0.0.1:${port}/callback`;

    it(`port ${port}: an error page without a session, and with one`, async () => {
      await assertErrorPage(await fetch(requestUrl(redirectUri), { redirect: 'manual' }));
      await assertErrorPage(await signedIn.get(requestUrl(redirectUri)));
    });

    it(`port ${port}: an error page, not an error redirect, when a later parameter is wrong too`, async () => {
      await assertErrorPage(await fetch(requestUrl(redirectUri, { response_type: 'token' }), { redirect: 'manual' }));
      await assertErrorPage(await signedIn.get(requestUrl(redirectUri, { scope: 'no such scope!' })));
    });

    it(`port ${port}: a login form posted back with it is refused too`, async () => {
      const user = new BrowserlessUser();
      const login = parseForm(await (await user.get(requestUrl('http://127.0.0.1:4000/callback'))).text());
      await assertErrorPage(
        await user.post(`${server.url}/authorize/login`, {
          ...login.fields,
          redirect_uri: redirectUri,
          username: DEMO_USERNAME,
          password: DEMO_PASSWORD,
        }),
      );
    });
  }

  it('a client stored before the port rule, whose only URI has an impossible port, gets an error page even without redirect_uri', async () => {
    // Written straight to the store, as an older version of the server would have accepted it.
    const legacy = await registerClient(server.url, {
      redirect_uris: ['http://127.0.0.1:4000/legacy'],
      token_endpoint_auth_method: 'none',
    });
    const record = (await server.storage.clients.findClient(legacy.client_id))!;
    assert.ok(
      await server.storage.clients.replaceClient({
        ...record,
        metadata: { ...record.metadata, redirect_uris: ['http://127.0.0.1:65536/legacy'] },
      }),
    );
    const url = authorizationUrl(server.url, {
      client_id: legacy.client_id,
      state: 'st',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    });
    await assertErrorPage(await fetch(url, { redirect: 'manual' }));
    url.searchParams.set('response_type', 'token'); // an error that would otherwise be redirected
    await assertErrorPage(await fetch(url, { redirect: 'manual' }));
    await assertErrorPage(await signedIn.get(url.href));
  });

  it('stored no authorization code for any of them (and stores one for a valid request)', async () => {
    // pruneExpired(far future) deletes, and counts, every code and token there is.
    assert.equal(await server.storage.tokens.pruneExpired(FAR_FUTURE), 0);
    const consent = parseForm(await (await signedIn.get(requestUrl('http://127.0.0.1:4000/callback'))).text());
    const approved = await signedIn.post(`${server.url}/authorize/decision`, {
      ...consent.fields,
      decision: 'approve',
    });
    assert.equal(approved.status, 303);
    assert.ok(new URL(approved.headers.get('location')!).searchParams.get('code'));
    assert.equal(await server.storage.tokens.pruneExpired(FAR_FUTURE), 1, 'the count sees a stored code');
  });
});

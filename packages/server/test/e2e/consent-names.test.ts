import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorizationUrl, BrowserlessUser, parseForm, pkcePair } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, DEMO_USERNAME, startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * How the login and consent pages name a client whose name nobody vouched for: a self-registered
 * name that looks like a web address is quoted with a warning, never used as the name (a client
 * calling itself "accounts.google.com" must not read as Google); invisible direction overrides
 * are dropped; very long names are cut. A name an administrator stood behind (registered with an
 * initial access token) is shown as it is.
 */
const CALLBACK = 'http://127.0.0.1:40123/callback';

describe('client names on the login and consent pages', () => {
  let server: TestServer;
  const user = new BrowserlessUser();

  before(async () => {
    server = await startTestServer({ store: 'memory' });
  });
  after(() => server?.stop());

  async function register(metadata: Record<string, unknown>, initialAccessToken?: string): Promise<string> {
    const response = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(initialAccessToken ? { authorization: `Bearer ${initialAccessToken}` } : {}),
      },
      body: JSON.stringify({ redirect_uris: [CALLBACK], token_endpoint_auth_method: 'none', ...metadata }),
    });
    const body = (await response.json()) as Record<string, string>;
    assert.equal(response.status, 201, JSON.stringify(body));
    return body.client_id!;
  }

  function requestUrl(clientId: string): string {
    return authorizationUrl(server.url, {
      client_id: clientId,
      redirect_uri: CALLBACK,
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }).href;
  }

  /** The consent page for a client, signing in first when needed. */
  async function consentPage(clientId: string): Promise<string> {
    let response = await user.get(requestUrl(clientId));
    let html = await response.text();
    const form = parseForm(html);
    if (form.action.endsWith('/authorize/login')) {
      response = await user.post(new URL(form.action, server.url).href, {
        ...form.fields,
        username: DEMO_USERNAME,
        password: DEMO_PASSWORD,
      });
      assert.equal(response.status, 303);
      response = await user.get(new URL(response.headers.get('location')!, server.url).href);
      html = await response.text();
    }
    assert.equal(response.status, 200, html.slice(0, 300));
    assert.ok(
      parseForm(html).buttons.some((button) => button.value === 'approve'),
      'the consent form',
    );
    return html;
  }

  const heading = (html: string) => /<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1]?.replace(/<[^>]+>/g, '') ?? '';

  it('quotes a self-registered name that looks like a web address, with a warning, instead of using it', async () => {
    for (const name of [
      'accounts.google.com',
      'https://github.com/login',
      'Sign in to 192.168.1.1',
      'ｇｏｏｇｌｅ．ｃｏｍ',
    ]) {
      const html = await consentPage(await register({ client_name: name }));
      assert.equal(heading(html), 'Allow an unnamed application to access your account?', name);
      assert.match(html, /class="notice look-alike"/, name);
      assert.ok(html.includes(`It calls itself “${name.replace(/&/g, '&amp;')}”`), name);
    }
  });

  it('shows an ordinary self-registered name as it is', async () => {
    const html = await consentPage(await register({ client_name: 'Acme Desktop' }));
    assert.equal(heading(html), 'Allow Acme Desktop to access your account?');
    assert.doesNotMatch(html, /look-alike/);
  });

  it('drops invisible direction overrides and cuts a very long name', async () => {
    const reversed = await consentPage(await register({ client_name: 'Acme \u202eevil\u202c Desktop' }));
    assert.equal(heading(reversed), 'Allow Acme evil Desktop to access your account?');
    const long = await consentPage(await register({ client_name: `Acme ${'y'.repeat(200)}` }));
    const shown = heading(long).replace(/^Allow | to access your account\?$/g, '');
    assert.equal([...shown].length, 81, 'eighty characters and an ellipsis');
    assert.ok(shown.endsWith('…'));
  });

  it('shows a name an administrator stood behind as it is, even when it looks like a web address', async () => {
    const { token } = await server.registration.initialAccessTokens.create({ uses: 1, label: 'consent-names test' });
    const html = await consentPage(await register({ client_name: 'files.acme.example' }, token));
    assert.equal(heading(html), 'Allow files.acme.example to access your account?');
    assert.doesNotMatch(html, /look-alike/);
    assert.match(html, /Registered with an access token/);
  });

  it('names the client the same way on the sign-in page', async () => {
    const clientId = await register({ client_name: 'accounts.google.com' });
    const html = await (await new BrowserlessUser().get(requestUrl(clientId))).text();
    assert.match(html, /to continue to <span class="app">an unnamed application<\/span>/);
    assert.doesNotMatch(html, /<span class="app">accounts\.google\.com/);
  });
});

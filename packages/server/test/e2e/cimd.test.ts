import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  authorizationUrl,
  BrowserlessUser,
  obtainTokens,
  parseForm,
  pkcePair,
  registerClient,
  tokenRequest,
} from '../support/oauth-flow.js';
import {
  documentFixture,
  startDocumentHost,
  spawnReferenceServer,
  type DocumentHost,
  type SpawnedServer,
} from '../support/local-documents.js';
import { DEMO_PASSWORD, DEMO_USERNAME } from '../support/reference-server.js';
import { countSkippedSuite } from '../../../oauth-dcr/test/support/services.js';

/**
 * Client ID Metadata Documents in the reference server, end to end: the documents are served over
 * real https from a local test CA (trusted through NODE_EXTRA_CA_CERTS), the server runs as
 * `oauth-dcr-server serve` with DCR_FETCH_ALLOW naming loopback, and a user signs in for real.
 * CIMD checklist tests 8, 12 and 14; issue 9 scenario 5 (bad documents never lead to a redirect
 * with a code); DCR_CIMD=false.
 */

/**
 * Claude Code's published document (https://claude.ai/oauth/claude-code-client-metadata): loopback
 * redirects without a port (it authorizes with an ephemeral one), method none, no application_type.
 */
const CLAUDE_CODE = documentFixture('claude-code');
/** The port Claude Code happened to listen on: any port must do (RFC 8252 §7.3). */
const EPHEMERAL_CALLBACK = 'http://127.0.0.1:53124/callback';

const documents = await startDocumentHost();
if ('skip' in documents) countSkippedSuite('the Client ID Metadata Document suite', documents.skip);

describe('Client ID Metadata Documents', { skip: 'skip' in documents }, () => {
  const host = documents as DocumentHost;
  let server: SpawnedServer;
  let claudeCode: string;
  /** Signed in once; every later /authorize goes straight to consent, or to an error page. */
  const user = new BrowserlessUser();

  before(async () => {
    server = await spawnReferenceServer(host.certificate);
    claudeCode = host.serveDocument('/oauth/claude-code-client-metadata', CLAUDE_CODE);
    const login = await user.get(requestFor(claudeCode, EPHEMERAL_CALLBACK));
    const body = await login.text();
    assert.equal(login.status, 200, body.slice(0, 500));
    const form = parseForm(body);
    assert.ok(form.action.endsWith('/authorize/login'), 'the login page comes first');
    const signedIn = await user.post(new URL(form.action, server.url).href, {
      ...form.fields,
      username: DEMO_USERNAME,
      password: DEMO_PASSWORD,
    });
    assert.equal(signedIn.status, 303);
  });
  after(async () => {
    await server?.stop();
    await host.close();
  });

  function requestFor(clientId: string, redirectUri: string, extra: Record<string, string> = {}): string {
    return authorizationUrl(server.url, {
      client_id: clientId,
      redirect_uri: redirectUri,
      state: 'st-1',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      ...extra,
    }).href;
  }

  /** An error page: never a redirect, no consent form, no login form. Returns the page. */
  async function assertErrorPage(response: Response, what: string): Promise<string> {
    const body = await response.text();
    assert.ok(response.status >= 400 && response.status < 500, `${what}: ${response.status} ${body.slice(0, 300)}`);
    assert.equal(response.headers.get('location'), null, `${what}: never a redirect`);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/, what);
    assert.doesNotMatch(body, /name="decision"|name="password"/, `${what}: neither consent nor login`);
    return body;
  }

  it('advertises client_id_metadata_document_supported with "none", and never issues an https client_id itself (test 14)', async () => {
    const response = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
    const metadata = (await response.json()) as Record<string, unknown>;
    assert.equal(metadata.client_id_metadata_document_supported, true);
    assert.ok((metadata.token_endpoint_auth_methods_supported as string[]).includes('none'));
    assert.equal(typeof metadata.registration_endpoint, 'string', 'DCR stays advertised as the fallback');
    const registered = await registerClient(server.url, {
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    });
    assert.doesNotMatch(registered.client_id, /^https:\/\//i);
  });

  it('warns in the start banner that DCR_FETCH_ALLOW lifts the private-range block', () => {
    assert.match(server.output(), /warning: DCR_FETCH_ALLOW is set: .*127\.0\.0\.1, localhost, ::1/);
  });

  it('shows consent to the Claude Code document with a loopback redirect on an ephemeral port (test 8)', async () => {
    const response = await user.get(requestFor(claudeCode, EPHEMERAL_CALLBACK));
    const body = await response.text();
    assert.equal(response.status, 200, body.slice(0, 500));
    assert.ok(parseForm(body).buttons.some((button) => button.value === 'approve'));
    assert.match(body, /Identified by its website/);
    assert.ok(body.includes(new URL(claudeCode).host), 'the host of the client_id URL');
  });

  it('shows an error page, never a redirect, for a redirect URI the document does not list (test 8)', async () => {
    for (const redirectUri of ['http://127.0.0.1:53124/other', 'https://evil.example/callback']) {
      const body = await assertErrorPage(await user.get(requestFor(claudeCode, redirectUri)), redirectUri);
      assert.match(body, /redirect_uri/);
    }
  });

  it('exchanges the code and refreshes with the document URL as client_id (test 12)', async () => {
    const fetchesBefore = host.hits('/oauth/claude-code-client-metadata');
    const client = { client_id: claudeCode, ...CLAUDE_CODE };
    const { tokens } = await obtainTokens(server.url, client, { redirectUri: EPHEMERAL_CALLBACK });
    assert.equal(typeof tokens.access_token, 'string');
    assert.equal(typeof tokens.refresh_token, 'string');
    const refreshed = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: claudeCode,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.notEqual(refreshed.body.refresh_token, tokens.refresh_token, 'a public client rotates');
    // The document was fetched once and then served from the cache (it sent no Cache-Control).
    assert.ok(host.hits('/oauth/claude-code-client-metadata') - fetchesBefore <= 1);
  });

  it('refuses a refresh sent under another client_id than the document it was issued to', async () => {
    const client = { client_id: claudeCode, ...CLAUDE_CODE };
    const { tokens } = await obtainTokens(server.url, client, { redirectUri: EPHEMERAL_CALLBACK });
    const other = host.serveDocument('/oauth/other-client', CLAUDE_CODE);
    const refreshed = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: other,
    });
    assert.equal(refreshed.status, 400, JSON.stringify(refreshed.body));
    assert.equal(refreshed.body.error, 'invalid_grant');
  });

  describe('bad documents never lead to a redirect with a code (issue 9, scenario 5)', () => {
    const cases: Array<[string, string, (url: string) => Parameters<DocumentHost['serve']>[1]]> = [
      [
        'a client_id that differs from the URL',
        '/bad/mismatch',
        (url) => ({
          body: { ...CLAUDE_CODE, client_id: `${url}/` },
        }),
      ],
      [
        'a document carrying client_secret',
        '/bad/secret',
        (url) => ({
          body: { ...CLAUDE_CODE, client_id: url, client_secret: 'a-shared-secret-in-a-public-document' },
        }),
      ],
      [
        'a document over 5 KiB',
        '/bad/large',
        (url) => ({
          body: { ...CLAUDE_CODE, client_id: url, client_name: `Large ${'x'.repeat(6 * 1024)}` },
        }),
      ],
      [
        'a body that is not JSON',
        '/bad/not-json',
        () => ({ body: '<!doctype html><p>Not a document</p>', contentType: 'text/html' }),
      ],
      ['a JSON content type over a body that is not JSON', '/bad/broken-json', () => ({ body: '{"client_id": ' })],
      ['a 404', '/bad/missing', () => ({ status: 404, body: { error: 'not found' } })],
    ];
    for (const [what, path, response] of cases) {
      it(`${what}: an error page at /authorize, and invalid_client at /token`, async () => {
        const url = host.urlOf(path);
        host.serve(path, response(url));
        const body = await assertErrorPage(await user.get(requestFor(url, EPHEMERAL_CALLBACK)), what);
        assert.match(body, /invalid_client/, `${what}: the error code is shown`);
        // The login form carries the request back: refused there too, before any password check.
        const anonymous = new BrowserlessUser();
        const login = await anonymous.get(requestFor(url, EPHEMERAL_CALLBACK));
        await assertErrorPage(login, `${what} (signed out)`);
        const token = await tokenRequest(server.url, {
          grant_type: 'authorization_code',
          code: 'no-such-code',
          code_verifier: pkcePair().verifier,
          redirect_uri: EPHEMERAL_CALLBACK,
          client_id: url,
        });
        assert.ok(token.status === 400 || token.status === 401, `${what}: ${token.status}`);
        assert.equal(token.body.error, 'invalid_client', `${what}: ${JSON.stringify(token.body)}`);
      });
    }

    it('says on the error page why the document was refused, with the document text escaped', async () => {
      const mismatch = host.serveDocument('/bad/mismatch-named', {
        ...CLAUDE_CODE,
        client_id: 'https://claude.ai/oauth/claude-code-client-metadata',
      });
      const mismatchPage = await assertErrorPage(await user.get(requestFor(mismatch, EPHEMERAL_CALLBACK)), 'mismatch');
      assert.match(mismatchPage, /client_id/);
      // A refusal that quotes the document: what the document said must not become markup.
      const marked = host.serveDocument('/bad/marked-up', {
        ...CLAUDE_CODE,
        redirect_uris: ['https://app.example/cb#<b>fragment</b>'],
      });
      const markedPage = await assertErrorPage(await user.get(requestFor(marked, EPHEMERAL_CALLBACK)), 'markup');
      assert.ok(markedPage.includes('#&lt;b&gt;fragment&lt;/b&gt;'), markedPage.slice(markedPage.indexOf('<h1>')));
      assert.doesNotMatch(markedPage, /<b>fragment/);
    });
  });
});

describe('Client ID Metadata Documents turned off (DCR_CIMD=false)', { skip: 'skip' in documents }, () => {
  const host = documents as DocumentHost;
  let server: SpawnedServer;
  let documentUrl: string;

  before(async () => {
    server = await spawnReferenceServer(host.certificate, { DCR_CIMD: 'false' });
    documentUrl = host.serveDocument('/off/claude-code-client-metadata', CLAUDE_CODE);
  });
  after(() => server?.stop());

  it('omits client_id_metadata_document_supported from the metadata (never false)', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal('client_id_metadata_document_supported' in metadata, false);
    assert.equal(typeof metadata.registration_endpoint, 'string');
  });

  it('treats an https client_id as an unknown client, and fetches nothing', async () => {
    const response = await new BrowserlessUser().get(
      authorizationUrl(server.url, {
        client_id: documentUrl,
        redirect_uri: EPHEMERAL_CALLBACK,
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }).href,
    );
    const body = await response.text();
    assert.ok(response.status >= 400 && response.status < 500, `${response.status}`);
    assert.equal(response.headers.get('location'), null);
    assert.match(body, /invalid_client/);
    assert.equal(host.hits('/off/claude-code-client-metadata'), 0);
  });
});

describe('outbound fetches without DCR_FETCH_ALLOW', { skip: 'skip' in documents }, () => {
  const host = documents as DocumentHost;

  it('keeps the private-range block: a document on localhost is refused before any connection', async () => {
    const server = await spawnReferenceServer(host.certificate, { DCR_FETCH_ALLOW: '' });
    try {
      assert.doesNotMatch(server.output(), /DCR_FETCH_ALLOW is set/, 'no warning while nothing is loosened');
      const documentUrl = host.serveDocument('/blocked/claude-code-client-metadata', CLAUDE_CODE);
      const response = await new BrowserlessUser().get(
        authorizationUrl(server.url, {
          client_id: documentUrl,
          redirect_uri: EPHEMERAL_CALLBACK,
          code_challenge: pkcePair().challenge,
          code_challenge_method: 'S256',
        }).href,
      );
      const body = await response.text();
      assert.ok(response.status >= 400 && response.status < 500, `${response.status}`);
      assert.equal(response.headers.get('location'), null);
      assert.match(body, /invalid_client/);
      assert.equal(host.hits('/blocked/claude-code-client-metadata'), 0, 'never connected');
    } finally {
      await server.stop();
    }
  });

  it('refuses a malformed DCR_FETCH_ALLOW entry at start, naming the setting', async () => {
    await assert.rejects(
      spawnReferenceServer(host.certificate, { DCR_FETCH_ALLOW: 'localhost,10.0.0.0/' }),
      (error: Error) => {
        assert.match(error.message, /exited with 2/);
        assert.match(error.message, /DCR_FETCH_ALLOW: "10\.0\.0\.0\/" is not an IP address, CIDR or host name/);
        return true;
      },
    );
  });
});

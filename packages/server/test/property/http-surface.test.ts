import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { checkProperty } from '../../../oauth-dcr/test/support/property-runner.js';
import { countSkippedSuite, requireService } from '../../../oauth-dcr/test/support/services.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  documentFixture,
  spawnReferenceServer,
  startDocumentHost,
  type DocumentHost,
  type SpawnedServer,
} from '../support/local-documents.js';
import { authorizationUrl, BrowserlessUser, pkcePair, registerClient, tokenRequest } from '../support/oauth-flow.js';
import { httpCase, type HttpCase, type Placeholder } from './http-request-arbitraries.js';
import { send } from './http-raw-request.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The reference server's whole HTTP surface under generated requests (http-request-arbitraries.ts):
 * registration and RFC 7592, /authorize and its pages, /token, /revoke, /introspect, /userinfo,
 * metadata, and Client ID Metadata Document resolution (client_ids that are https URLs served by a
 * local document host). The server runs as `oauth-dcr-server serve` on a SQLite file (or
 * PostgreSQL under `npm run fuzz` with FUZZ_STORE=postgres). For every answer:
 * - never a 5xx, never a stack trace, never an error logged (each is a fault of ours);
 * - JSON everywhere, with an RFC `error` code on a 4xx (RFC 6749 §5.2, RFC 7591 §3.2.2,
 *   RFC 6750 §3.1), except the pages: HTML is the documented answer of /authorize (login, consent,
 *   the error page for a client or redirect URI that cannot be trusted) and of the admin pages;
 * - a redirect only from those pages, and never to a URI nobody registered (RFC 6749 §4.1.2.1,
 *   RFC 9700 §4.11.1);
 * - the process stays up, and a metadata request every 20 cases is answered.
 */

const SEEDS = fileURLToPath(new URL('./seeds/', import.meta.url));
const HEALTH_EVERY = 20;
/** Paths whose documented answer may be an HTML page or a redirect. */
const PAGE_PATH = /^\/(authorize|admin)(\/|\?|$)|^\/(\?|$)/;
const STACK_TRACE = /\n\s+at \S|\bat [\w.<>]+ \((file|node):|node_modules\//;

/** `npm run fuzz` with FUZZ_STORE=postgres: PostgreSQL in a schema of its own, dropped afterwards. */
const postgresUrl =
  process.env.FUZZ_STORE === 'postgres'
    ? requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL)
    : undefined;
const postgresSchema = `prop_fuzz_${randomBytes(5).toString('hex')}`;

const documents = await startDocumentHost();
if ('skip' in documents) countSkippedSuite('the HTTP surface property', documents.skip);

describe('HTTP surface property (reference server, every endpoint)', { skip: 'skip' in documents }, () => {
  const host = documents as DocumentHost;
  const dataDirectory = mkdtempSync(join(tmpdir(), 'oauth-dcr-property-'));
  let server: SpawnedServer;
  const values = {} as Record<Placeholder, string>;
  /** Scheme, host and path of every redirect URI a client registered (RFC 8252 §7.3: any loopback port). */
  const registeredRedirects = new Set<string>();
  let outputSeen = 0;
  /** Signed in once, in set-up; later authorizations go straight to consent. */
  const user = new BrowserlessUser();
  let confidentialClient: Record<string, any>;
  let cases = 0;

  before(async () => {
    const claudeCode = documentFixture('claude-code');
    values.document_client = host.serveDocument('/good', claudeCode);
    values.document_mismatch = host.serveDocument('/mismatch', { ...claudeCode, client_id: 'https://other.example/x' });
    values.document_broken = host.serve('/broken', { body: '{"client_id":' });
    values.document_html = host.serve('/page', { contentType: 'text/html', body: '<html></html>' });
    values.document_missing = host.urlOf('/missing');
    for (const uri of claudeCode.redirect_uris as string[]) registeredRedirects.add(redirectKey(uri));

    const store: Record<string, string> = postgresUrl
      ? { DCR_STORE: 'postgres', DATABASE_URL: postgresUrl, DATABASE_SCHEMA: postgresSchema }
      : { DCR_STORE: 'sqlite', DATABASE_PATH: join(dataDirectory, 'server.db') };
    server = await spawnReferenceServer(host.certificate, { ...store, DCR_RATE_LIMITS: 'off', LOG_LEVEL: 'warn' });

    const publicClient = await registerClient(server.url, {
      client_name: 'Property public',
      redirect_uris: ['http://127.0.0.1:7777/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    const confidential = await registerClient(server.url, {
      client_name: 'Property confidential',
      redirect_uris: ['https://app.example/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
    });
    const managed = await registerClient(server.url, {
      client_name: 'Property managed',
      redirect_uris: ['https://managed.example/cb'],
    });
    for (const client of [publicClient, confidential, managed])
      for (const uri of client.redirect_uris as string[]) registeredRedirects.add(redirectKey(uri));
    const pkce = pkcePair();
    await user.authorize(
      authorizationUrl(server.url, {
        client_id: publicClient.client_id,
        redirect_uri: 'http://127.0.0.1:7777/callback',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }),
    );
    Object.assign(values, {
      public_client: publicClient.client_id,
      confidential_client: confidential.client_id,
      confidential_secret: confidential.client_secret,
      managed_client: managed.client_id,
      managed_token: managed.registration_access_token,
      basic_credentials: Buffer.from(
        `${encodeURIComponent(confidential.client_id)}:${encodeURIComponent(confidential.client_secret)}`,
      ).toString('base64'),
      session_cookie: user.jar.header(),
      public_redirect: 'http://127.0.0.1:7777/callback',
      confidential_redirect: 'https://app.example/cb',
      pkce_challenge: pkce.challenge,
    });
    confidentialClient = confidential;
    await replenish();
    outputSeen = server.output().length;
  });

  /**
   * Puts back what earlier cases may have used up: fresh tokens (a refresh rotates them, a replay
   * or a revocation ends the grant), through the signed-in session (no new sign-in, which the
   * login throttle would count), and the managed client if a case deleted it. Also proves the
   * server still completes a whole authorization code flow.
   */
  async function replenish(): Promise<void> {
    const pkce = pkcePair();
    const back = await user.authorize(
      authorizationUrl(server.url, {
        client_id: confidentialClient.client_id,
        redirect_uri: 'https://app.example/cb',
        state: 'replenish',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }),
    );
    const code = back.searchParams.get('code');
    assert.ok(code, `no code in ${back.href}`);
    const issued = await tokenRequest(
      server.url,
      { grant_type: 'authorization_code', code, code_verifier: pkce.verifier, redirect_uri: 'https://app.example/cb' },
      { id: confidentialClient.client_id, secret: confidentialClient.client_secret },
    );
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    values.access_token = issued.body.access_token;
    values.refresh_token = issued.body.refresh_token;
    const managed = await fetch(`${server.url}/register/${encodeURIComponent(values.managed_client ?? 'none')}`, {
      headers: { authorization: `Bearer ${values.managed_token ?? ''}` },
    });
    await managed.arrayBuffer();
    if (managed.status !== 200) {
      const client = await registerClient(server.url, {
        client_name: 'Property managed',
        redirect_uris: ['https://managed.example/cb'],
      });
      values.managed_client = client.client_id;
      values.managed_token = client.registration_access_token;
    }
  }

  after(async () => {
    await server?.stop();
    if (postgresUrl) {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`drop schema if exists "${postgresSchema}" cascade`).finally(() => client.end());
    }
    await host.close();
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  /** Fills in placeholders, as they are or percent-encoded (inside a query or form built by URLSearchParams). */
  const fill = (text: string) =>
    text
      .replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name as Placeholder] ?? whole)
      .replace(/%7B%7B(\w+)%7D%7D/g, (whole, name: string) => {
        const known = values[name as Placeholder];
        return known === undefined ? whole : encodeURIComponent(known);
      });

  async function checkCase(testCase: HttpCase): Promise<void> {
    const answer = await send(server.url, testCase, fill);
    if (answer === 'reset') return afterCase(`${testCase.method} ${testCase.path} (reset)`, { health: true });
    const where = `${testCase.method} ${answer.path} -> ${answer.status}`;
    const text = answer.body.toString('utf8');
    assert.ok(answer.status < 500, `${where}: ${text.slice(0, 500)}`);
    assert.ok(!STACK_TRACE.test(text), `${where}: a stack trace in the answer: ${text.slice(0, 500)}`);
    const page = PAGE_PATH.test(answer.path);
    const contentType = String(answer.headers['content-type'] ?? '');
    if (answer.status >= 300 && answer.status < 400) {
      assert.ok(page, `${where}: a redirect from an API endpoint`);
      const location = new URL(String(answer.headers.location), server.url);
      assert.ok(
        location.origin === server.url || registeredRedirects.has(redirectKey(location.href)),
        `${where}: redirect to ${location.href}, which nobody registered`,
      );
    } else if (answer.status < 300 && testCase.method === 'OPTIONS') {
      // RFC 9110 §9.3.7: the answer to OPTIONS is its Allow header (Express adds a text/plain copy).
    } else if (answer.body.length > 0 && testCase.method !== 'HEAD') {
      if (page && /^text\/html/.test(contentType)) return afterCase(where);
      // JSON, or a JSON media type of its own (application/jwk-set+json, RFC 7517 §8.5).
      assert.match(contentType, /^application\/([\w.-]+\+)?json/, `${where}: ${contentType} ${text.slice(0, 300)}`);
      const parsed = JSON.parse(text) as Record<string, unknown>;
      if (answer.status >= 400)
        assert.equal(typeof parsed.error, 'string', `${where}: an error without an RFC code: ${text.slice(0, 300)}`);
    }
    await afterCase(where);
  }

  /** The process is up, logged no error, and every HEALTH_EVERY cases still answers. */
  async function afterCase(where: string, options: { health?: boolean } = {}): Promise<void> {
    assert.equal(server.child.exitCode, null, `${where}: the server exited:\n${server.output().slice(-2000)}`);
    const output = server.output();
    const logged = output.slice(outputSeen);
    outputSeen = output.length;
    assert.ok(!/"level":(50|60)/.test(logged), `${where}: the server logged an error:\n${logged.slice(0, 3000)}`);
    cases += 1;
    if (cases % HEALTH_EVERY !== 0 && !options.health) return;
    const health = await fetch(`${server.url}/.well-known/oauth-authorization-server`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(health.status, 200, `${where}: the server stopped serving`);
    await health.arrayBuffer();
    await replenish();
    outputSeen = server.output().length;
  }

  it('answers every request with JSON 4xx or a success, never a 5xx, and keeps serving', async () => {
    await checkProperty({
      name: 'http-surface',
      arbitrary: httpCase,
      check: checkCase,
      testRuns: 800,
      fuzzShare: 0.55,
      seedsDirectory: SEEDS,
    });
  });
});

/** Scheme, host and path: what decides where a browser lands (the query and port aside). */
function redirectKey(uri: string): string {
  const url = new URL(uri);
  return `${url.protocol}//${url.hostname}${url.pathname}`;
}

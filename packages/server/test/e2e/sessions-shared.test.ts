/**
 * Two reference-server instances on one PostgreSQL database (their own schema), no sticky
 * routing: the sign-in and consent journey may hop between them at every step (src/sessions.ts,
 * src/storage/session-records.ts). A browser signs in on A and its session works on B; a request
 * waiting for consent on A is decided on B; a decision posted to both at once is made once.
 * Plain fetch with a cookie jar drives the real forms (cookies are per host, not per port, so a
 * browser would send the same ones to both).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { authorizationUrl, BrowserlessUser, parseForm, pkcePair, registerClient } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, DEMO_USERNAME, startTestServer, type TestServer } from '../support/reference-server.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';

const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
const REDIRECT_URI = 'http://127.0.0.1:4000/callback';

describe('sessions and consent shared by two instances on one PostgreSQL', { skip: !url }, () => {
  const schema = `ref_shared_sessions_${randomBytes(5).toString('hex')}`;
  let a: TestServer;
  let b: TestServer;
  let clientId: string;

  before(async () => {
    const env = { DCR_STORE: 'postgres', DATABASE_URL: url!, DATABASE_SCHEMA: schema };
    // Started together: both migrate the same fresh schema, serialised by the advisory locks.
    [a, b] = await Promise.all([startTestServer({ env }), startTestServer({ env })]);
    const client = await registerClient(a.url, {
      client_name: 'Shared Sessions',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    });
    clientId = client.client_id;
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await admin.end();
    }
  });

  function startUrl(base: string, state: string): string {
    return authorizationUrl(base, {
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      state,
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    }).href;
  }

  /** Signs a new browser in on `server` (stopping at the consent it is sent to). */
  async function signedInOn(server: TestServer): Promise<BrowserlessUser> {
    const user = new BrowserlessUser();
    const login = parseForm(await (await user.get(startUrl(server.url, 'sign-in'))).text());
    const signIn = await user.post(`${server.url}/authorize/login`, {
      ...login.fields,
      username: DEMO_USERNAME,
      password: DEMO_PASSWORD,
    });
    assert.equal(signIn.status, 303);
    return user;
  }

  /** The consent form a signed-in browser gets for a new request at `server`. */
  async function consentOn(user: BrowserlessUser, server: TestServer, state: string) {
    const page = await user.get(startUrl(server.url, state));
    assert.equal(page.status, 200);
    const form = parseForm(await page.text());
    assert.match(form.action, /\/authorize\/decision$/, `consent, not a login page, on ${server.url}`);
    return form;
  }

  it('signs in on A and is signed in on B; a request the login posted on B is shown on A', async () => {
    const user = new BrowserlessUser();
    const login = parseForm(await (await user.get(startUrl(a.url, 'hop'))).text());
    const signIn = await user.post(`${b.url}/authorize/login`, {
      ...login.fields,
      username: DEMO_USERNAME,
      password: DEMO_PASSWORD,
    });
    assert.equal(signIn.status, 303);
    // The pending request was stored by B; A shows its consent page.
    const consentPath = signIn.headers.get('location')!;
    const consent = await user.get(new URL(consentPath, a.url).href);
    assert.equal(consent.status, 200);
    const form = parseForm(await consent.text());
    assert.match(form.action, /\/authorize\/decision$/);
    // And the session B created works on A and on B for new requests.
    await consentOn(user, a, 'on-a');
    await consentOn(user, b, 'on-b');
  });

  it('decides on B a request waiting for consent on A', async () => {
    const user = await signedInOn(a);
    const form = await consentOn(user, a, 'decided-on-b');
    const decision = await user.post(`${b.url}/authorize/decision`, { ...form.fields, decision: 'approve' });
    assert.equal(decision.status, 303);
    const back = new URL(decision.headers.get('location')!);
    assert.equal(back.searchParams.get('state'), 'decided-on-b');
    assert.ok(back.searchParams.get('code'), 'a code for the client');
  });

  it('makes a decision posted to both instances at once exactly once', async () => {
    const user = await signedInOn(b);
    for (let round = 0; round < 5; round++) {
      const form = await consentOn(user, a, `race-${round}`);
      const answers = await Promise.all(
        [a, b].map((server) => user.post(`${server.url}/authorize/decision`, { ...form.fields, decision: 'approve' })),
      );
      const codes = answers.filter(
        (answer) => answer.status === 303 && new URL(answer.headers.get('location')!).searchParams.has('code'),
      );
      assert.equal(codes.length, 1, `round ${round}: one code, got ${answers.map((answer) => answer.status)}`);
      const loser = answers.find((answer) => answer !== codes[0])!;
      assert.equal(loser.status, 400);
      assert.match(await loser.text(), /already used, or it waited too long/);
    }
  });

  it('stores nothing for anonymous requests, on either instance, whatever cookie they carry', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const rows = async () =>
      (
        await admin.query(
          `select (select count(*) from "${schema}".ref_sessions) + (select count(*) from "${schema}".ref_pending_authorizations) as n`,
        )
      ).rows[0].n as string;
    try {
      const before = await rows();
      for (let index = 0; index < 20; index++) {
        const server = index % 2 === 0 ? a : b;
        const cookie = index % 4 < 2 ? `dcr_session=${randomBytes(32).toString('base64url')}` : 'dcr_session=x';
        const page = await fetch(startUrl(server.url, `anonymous-${index}`), { headers: { cookie } });
        assert.equal(page.status, 200);
        assert.match(await page.text(), /action="\/authorize\/login"/);
      }
      assert.equal(await rows(), before, 'no row was written');
    } finally {
      await admin.end();
    }
  });

  it('a consent form from one session cannot be decided with another session, on either instance', async () => {
    const victim = await signedInOn(a);
    const form = await consentOn(victim, a, 'victim');
    const attacker = await signedInOn(b);
    for (const server of [a, b]) {
      // Its own CSRF token with the victim's request id: the request belongs to another session.
      const ownForm = await consentOn(attacker, server, 'attacker');
      const attempt = await attacker.post(`${server.url}/authorize/decision`, {
        ...ownForm.fields,
        request: form.fields.request!,
        decision: 'approve',
      });
      assert.equal(attempt.status, 400);
      // The victim's CSRF token is refused with the attacker's session.
      const stolen = await attacker.post(`${server.url}/authorize/decision`, { ...form.fields, decision: 'approve' });
      assert.equal(stolen.status, 403);
    }
    const decided = await victim.post(`${b.url}/authorize/decision`, { ...form.fields, decision: 'deny' });
    assert.equal(decided.status, 303);
    assert.equal(new URL(decided.headers.get('location')!).searchParams.get('error'), 'access_denied');
  });
});

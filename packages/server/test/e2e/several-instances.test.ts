import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { CookieJar, authorizationUrl, parseForm, pkcePair, tokenRequest } from '../support/oauth-flow.js';
import { startCluster, type Cluster, type RoutingProxy } from '../support/instances.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';
import { CHROMIUM, launchChromium } from '../support/chromium.js';

/**
 * Issue 11, "Several instances": two reference-server processes on one PostgreSQL schema and one
 * Redis, behind one address with no sticky routing, behave as one server. The journey crosses
 * from one to the other at every step (register on A, sign in on B, consent on A, redeem the code
 * on B, refresh on A, read and update through RFC 7592 on B; revoke on A, delete on B), once with
 * openid-client and a cookie jar driving the real forms, once in a real browser. The proxy is
 * pinned for each step so that the test says which instance serves it; the clients only ever see
 * the one issuer. Limits spent across instances: several-instances-limits.test.ts.
 */
const onCi = process.env.CI === 'true' || process.env.CI === '1';
if (onCi && !existsSync(CHROMIUM))
  throw new Error(`${CHROMIUM} is required on CI but is missing (apt-get install chromium)`);

const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
const redisUrl = requireService('DCR_TEST_REDIS_URL', process.env.DCR_TEST_REDIS_URL);

// The server runs on plain http on loopback; openid-client refuses that unless told.
const clientOptions: oidc.DynamicClientRegistrationRequestOptions = {
  execute: [oidc.allowInsecureRequests],
  algorithm: 'oauth2',
};

describe('two instances behind one address, no sticky routing', { skip: !postgresUrl || !redisUrl }, () => {
  let cluster: Cluster;
  let proxy: RoutingProxy;

  before(
    async () => {
      cluster = await startCluster({
        postgresUrl: postgresUrl!,
        redisUrl: redisUrl!,
        names: ['A', 'B'],
      });
      proxy = cluster.proxy;
    },
    { timeout: 120_000 },
  );
  after(() => cluster?.stop(), { timeout: 60_000 });

  it('register on A, sign in on B, consent on A, code on B, refresh on A, RFC 7592 on B', {
    timeout: 120_000,
  }, async () => {
    const redirectUri = 'http://127.0.0.1:53682/callback';
    const config = await proxy.on('A', () =>
      oidc.dynamicClientRegistration(
        new URL(cluster.issuer),
        {
          client_name: 'Several instances journey',
          redirect_uris: [redirectUri],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
        },
        oidc.None(),
        clientOptions,
      ),
    );
    assert.equal(config.serverMetadata().issuer, cluster.issuer);
    const registered = config.clientMetadata();

    // The browser: a cookie jar and the real forms, one step per instance.
    const jar = new CookieJar();
    const browse = async (url: string, form?: Record<string, string>) => {
      const response = await fetch(url, {
        redirect: 'manual',
        ...(form
          ? {
              method: 'POST',
              headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams(form),
            }
          : { headers: { cookie: jar.header() } }),
      });
      jar.store(response);
      return { status: response.status, location: response.headers.get('location'), html: await response.text() };
    };
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'profile',
      // RFC 8707: a token for this server's own resource is a JWT (RFC 9068) that /userinfo accepts.
      resource: cluster.issuer,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });

    // Sign in on B.
    const signedIn = await proxy.on('B', async () => {
      const loginPage = await browse(authorizationUrl.href);
      assert.equal(loginPage.status, 200, loginPage.html);
      const login = parseForm(loginPage.html);
      assert.match(login.action, /\/authorize\/login$/);
      return browse(new URL(login.action, cluster.issuer).href, {
        ...login.fields,
        username: cluster.user.username,
        password: cluster.user.password,
      });
    });
    assert.equal(signedIn.status, 303, signedIn.html);
    const consentUrl = new URL(signedIn.location!, cluster.issuer).href;

    // Consent on A: the session and the pending request B stored must be A's too.
    const callback = await proxy.on('A', async () => {
      const consentPage = await browse(consentUrl);
      assert.equal(
        consentPage.status,
        200,
        `A shows the consent page of B's sign-in:\n${consentPage.html.slice(0, 800)}`,
      );
      const consent = parseForm(consentPage.html);
      assert.match(consent.action, /\/authorize\/decision$/);
      const decided = await browse(new URL(consent.action, cluster.issuer).href, {
        ...consent.fields,
        decision: 'approve',
      });
      assert.equal(decided.status, 303, decided.html.slice(0, 800));
      return new URL(decided.location!);
    });
    assert.equal(callback.origin + callback.pathname, redirectUri);
    assert.equal(callback.searchParams.get('iss'), cluster.issuer);

    // The code A issued, redeemed on B (openid-client checks state and iss).
    const tokens = await proxy.on('B', () =>
      oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }),
    );
    assert.ok(tokens.refresh_token);

    // The refresh token B issued, rotated on A.
    const refreshed = await proxy.on('A', () => oidc.refreshTokenGrant(config, tokens.refresh_token!));
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

    // A's access token, accepted by B (one set of signing keys), and B's by A.
    for (const [instance, token] of [
      ['B', refreshed.access_token],
      ['A', tokens.access_token],
    ] as const) {
      const response = await proxy.on(instance, () =>
        oidc.fetchProtectedResource(config, token, new URL(`${cluster.issuer}/userinfo`), 'GET'),
      );
      assert.equal(response.status, 200, `${instance} accepts the other's access token`);
      assert.equal(((await response.json()) as Record<string, unknown>).client_id, registered.client_id);
    }
    // A resource server fetches jwks_uri through the balancer, so from either instance: each
    // instance's JWK Set must verify the access tokens both issued (RFC 9068 §4).
    for (const name of ['A', 'B']) {
      const jwks = (await (await fetch(`${cluster.instance(name).url}/jwks`)).json()) as JSONWebKeySet;
      for (const [issuedBy, token] of [
        ['B', tokens.access_token],
        ['A', refreshed.access_token],
      ] as const) {
        const kid = decodeProtectedHeader(token).kid;
        await assert.doesNotReject(
          jwtVerify(token, createLocalJWKSet(jwks), { issuer: cluster.issuer }),
          `the access token ${issuedBy} signed (kid ${kid}) verifies with ${name}'s /jwks (kids ${jwks.keys.map((key) => key.kid).join(', ')})`,
        );
      }
    }

    // The rotated-out refresh token is dead on B too.
    await proxy.on('B', () =>
      assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (error: unknown) => {
        assert.ok(error instanceof oidc.ResponseBodyError);
        assert.equal(error.error, 'invalid_grant');
        return true;
      }),
    );

    // RFC 7592 on B: read the client A registered, then update it; A sees the update.
    const managementUri = String(registered.registration_client_uri);
    const managementToken = String(registered.registration_access_token);
    assert.ok(managementUri.startsWith(`${cluster.issuer}/`), managementUri);
    const manage = (method: string, body?: Record<string, unknown>, token = managementToken) =>
      fetch(managementUri, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const read = await proxy.on('B', () => manage('GET'));
    assert.equal(read.status, 200);
    const current = (await read.json()) as Record<string, unknown>;
    assert.equal(current.client_id, registered.client_id);
    assert.equal(current.client_name, 'Several instances journey');

    // RFC 7592 §2.2: the whole metadata, with client_id, and none of the server-managed fields.
    const {
      registration_access_token: _token,
      registration_client_uri: _uri,
      client_id_issued_at: _issued,
      client_secret_expires_at: _expires,
      ...metadata
    } = current;
    const updated = await proxy.on('B', () => manage('PUT', { ...metadata, client_name: 'Renamed on B' }));
    assert.equal(updated.status, 200, await updated.clone().text());
    const update = (await updated.json()) as Record<string, unknown>;
    assert.equal(update.client_name, 'Renamed on B');
    // RFC 7592 §2.2: an update may rotate the registration access token; the client then uses the new one.
    const tokenAfterUpdate = String(update.registration_access_token ?? managementToken);
    const readOnA = await proxy.on('A', () => manage('GET', undefined, tokenAfterUpdate));
    assert.equal(readOnA.status, 200);
    assert.equal(((await readOnA.json()) as Record<string, unknown>).client_name, 'Renamed on B');

    // Revoked on A (RFC 7009 §2.1: the refresh token and its grant's access tokens): B refuses both.
    await proxy.on('A', () => oidc.tokenRevocation(config, refreshed.refresh_token!));
    await proxy.on('B', () =>
      assert.rejects(
        oidc.fetchProtectedResource(config, refreshed.access_token, new URL(`${cluster.issuer}/userinfo`), 'GET'),
        (error: unknown) => error instanceof oidc.WWWAuthenticateChallengeError && error.status === 401,
      ),
    );
    await proxy.on('B', () =>
      assert.rejects(
        oidc.refreshTokenGrant(config, refreshed.refresh_token!),
        (error: unknown) => error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant',
      ),
    );

    // Deleted through RFC 7592 on B (§2.3): A no longer knows it.
    const deleted = await proxy.on('B', () => manage('DELETE', undefined, tokenAfterUpdate));
    assert.equal(deleted.status, 204);
    const readAfterDelete = await proxy.on('A', () => manage('GET', undefined, tokenAfterUpdate));
    assert.equal(readAfterDelete.status, 401);
  });

  it('a real browser signs in on B and consents on A; its session then goes straight to consent on A, approved on B', {
    timeout: 120_000,
    skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not found`,
  }, async () => {
    // The "native app" listening on loopback for the redirect.
    const callbackServer: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Client</title><p>Received.</p>');
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    const callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
    const browser = await launchChromium();
    try {
      const registered = await fetch(`${cluster.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'Several instances desktop',
          redirect_uris: [callbackUrl],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
        }),
      });
      assert.equal(registered.status, 201);
      const client = (await registered.json()) as Record<string, string>;
      const page = await (await browser.newContext()).newPage();
      /** One authorization: the pages shown by `show` (signing in first if asked), the decision taken by `approve`. */
      const run = async (state: string, show: string, approve: string, signIn: boolean) => {
        const { verifier, challenge } = pkcePair();
        const start = authorizationUrl(cluster.issuer, {
          client_id: client.client_id!,
          redirect_uri: callbackUrl,
          state,
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }).href;
        proxy.pin(show);
        try {
          await page.goto(start);
          if (signIn) {
            await page.fill('input[name=username]', cluster.user.username);
            await page.fill('input[name=password]', cluster.user.password);
            await page.click('button[type=submit]');
          }
          await page.locator('button[value=approve]').waitFor();
          proxy.pin(approve);
          const first = proxy.served.length;
          await Promise.all([
            page.waitForURL((url) => url.href.startsWith(callbackUrl)),
            page.click('button[value=approve]'),
          ]);
          const decision = proxy.served.slice(first).find((request) => request.path === '/authorize/decision');
          assert.equal(decision?.instance, approve);
        } finally {
          proxy.pin(undefined);
        }
        const landed = new URL(page.url());
        assert.equal(landed.searchParams.get('state'), state);
        assert.equal(landed.searchParams.get('iss'), cluster.issuer);
        const code = landed.searchParams.get('code');
        assert.ok(code, landed.href);
        // Redeemed on whichever instance the proxy picks next.
        const token = await tokenRequest(cluster.issuer, {
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: callbackUrl,
          client_id: client.client_id!,
        });
        assert.equal(token.status, 200, JSON.stringify(token.body));
      };
      await run('first', 'B', 'A', true);
      // Signed in on B: A shows the consent page at once, and B takes the decision.
      await run('second', 'A', 'B', false);
    } finally {
      await browser.close();
      await new Promise((resolve) => callbackServer.close(resolve));
    }
  });
});

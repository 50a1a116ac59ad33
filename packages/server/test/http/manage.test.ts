import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { memoryStore } from 'oauth-dcr/memory';
import { isAcceptedSecret, type RegistrationOptions } from 'oauth-dcr';
import type { ServerStorage } from '../../src/storage/open-storage.js';
import { storageBackends } from '../support/storage-backends.js';
import {
  makeRegistration,
  register,
  send,
  bearer,
  mcpClient,
  BASE,
} from '../../../oauth-dcr/test/support/registration.js';

const confidential = {
  client_name: 'Web App',
  redirect_uris: ['https://app.example/cb'],
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'read',
};

async function registered(options = {}) {
  const store = memoryStore();
  const dcr = makeRegistration({ store, ...options });
  const res = await register(dcr, confidential);
  assert.equal(res.status, 201, res.text);
  const path = new URL(res.body.registration_client_uri).pathname;
  return { dcr, store, res, body: res.body, path, token: res.body.registration_access_token as string };
}

describe('RFC 7592: registration access token and client configuration endpoint', () => {
  it('returns an absolute registration_client_uri and a 256-bit token stored as a hash', async () => {
    const { body, store } = await registered();
    assert.equal(body.registration_client_uri, `${BASE}/register/${body.client_id}`);
    assert.equal(Buffer.from(body.registration_access_token, 'base64url').length, 32);
    const stored = await store.findClient(body.client_id);
    assert.equal(
      stored!.registrationAccessTokenHash,
      createHash('sha256').update(body.registration_access_token).digest('hex'),
    );
  });

  it('GET returns the current registration, its token and URI (RFC 7592 §3), without a secret', async () => {
    const { dcr, path, token, body } = await registered();
    const res = await send(dcr, 'GET', path, undefined, bearer(token));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.body.client_id, body.client_id);
    assert.equal(res.body.client_secret, undefined);
    assert.equal(res.body.registration_access_token, token);
    assert.equal(res.body.registration_client_uri, body.registration_client_uri);
    assert.equal(res.body.client_secret_expires_at, 0);
    assert.deepEqual(res.body.redirect_uris, confidential.redirect_uris);
    // A second read (served from the cached body) still carries the token, and only once.
    const again = await send(dcr, 'GET', path, undefined, bearer(token));
    assert.equal(again.body.registration_access_token, token);
    assert.equal(again.text.split('"registration_access_token"').length, 2);
  });

  it('GET after a rotating PUT echoes the new token', async () => {
    const { dcr, path, token, body } = await registered();
    const updated = await send(dcr, 'PUT', path, { ...confidential, client_id: body.client_id }, bearer(token));
    assert.equal(updated.status, 200, updated.text);
    const fresh = updated.body.registration_access_token as string;
    const res = await send(dcr, 'GET', path, undefined, bearer(fresh));
    assert.equal(res.status, 200);
    assert.equal(res.body.registration_access_token, fresh);
  });

  it('GET reflects an update at once, and each endpoint over a shared store names its own URI', async () => {
    const { dcr, store, path, token, body } = await registered({ rotateRegistrationAccessToken: false });
    const first = await send(dcr, 'GET', path, undefined, bearer(token));
    assert.equal(first.body.client_name, confidential.client_name);
    const updated = await send(
      dcr,
      'PUT',
      path,
      { ...confidential, client_id: body.client_id, client_name: 'Renamed' },
      bearer(token),
    );
    assert.equal(updated.status, 200, updated.text);
    assert.equal((await send(dcr, 'GET', path, undefined, bearer(token))).body.client_name, 'Renamed');

    // Another endpoint over the same store (another mount path) reads the same stored record.
    const other = makeRegistration({ store, issuer: 'https://other.example', registrationPath: '/clients' });
    const elsewhere = await send(other, 'GET', `/clients/${body.client_id}`, undefined, bearer(token));
    assert.equal(elsewhere.status, 200, elsewhere.text);
    assert.equal(elsewhere.body.registration_client_uri, `https://other.example/clients/${body.client_id}`);
    assert.equal(
      (await send(dcr, 'GET', path, undefined, bearer(token))).body.registration_client_uri,
      `${BASE}${path}`,
    );
  });

  for (const [name, headers] of [
    ['no token', {}],
    ['a wrong token', bearer('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')],
    ['a malformed Authorization header', { authorization: 'Basic abc' }],
  ] as const) {
    it(`answers ${name} with 401 invalid_token and WWW-Authenticate`, async () => {
      const { dcr, path } = await registered();
      const res = await send(dcr, 'GET', path, undefined, headers);
      assert.equal(res.status, 401);
      assert.equal(res.body.error, 'invalid_token');
      assert.match(res.headers.get('www-authenticate')!, /^Bearer error="invalid_token"/);
    });
  }

  it("refuses another client's token", async () => {
    const { dcr, path } = await registered();
    const other = await register(dcr, mcpClient);
    const res = await send(dcr, 'GET', path, undefined, bearer(other.body.registration_access_token));
    assert.equal(res.status, 401);
  });

  it('PUT replaces the registration, resets omitted fields and rotates the token', async () => {
    const { dcr, path, token, body } = await registered();
    const update = {
      client_id: body.client_id,
      redirect_uris: ['https://app.example/new'],
      token_endpoint_auth_method: 'client_secret_basic',
    };
    const res = await send(dcr, 'PUT', path, update, bearer(token));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.redirect_uris, ['https://app.example/new']);
    assert.equal(res.body.client_name, undefined, 'omitted fields are reset');
    assert.equal(res.body.scope, undefined);
    assert.deepEqual(res.body.grant_types, ['authorization_code'], 'defaults re-applied');
    assert.equal(res.body.client_secret, undefined, 'the secret is kept, not re-issued');
    assert.notEqual(res.body.registration_access_token, token);
    const old = await send(dcr, 'GET', path, undefined, bearer(token));
    assert.equal(old.status, 401, 'the old token stops working');
    const fresh = await send(dcr, 'GET', path, undefined, bearer(res.body.registration_access_token));
    assert.equal(fresh.status, 200);
  });

  it('keeps the token when rotation is switched off', async () => {
    const { dcr, path, token, body } = await registered({ rotateRegistrationAccessToken: false });
    const res = await send(dcr, 'PUT', path, { ...confidential, client_id: body.client_id }, bearer(token));
    assert.equal(res.status, 200);
    assert.equal(res.body.registration_access_token, undefined);
    assert.equal((await send(dcr, 'GET', path, undefined, bearer(token))).status, 200);
  });

  const forbidden: Array<[string, (id: string) => Record<string, unknown>, RegExp]> = [
    ['a missing client_id', () => ({ ...confidential }), /client_id/],
    ['a different client_id', () => ({ ...confidential, client_id: 'someone-else' }), /client_id/],
    [
      'registration_access_token',
      (id) => ({ ...confidential, client_id: id, registration_access_token: 'x' }),
      /registration_access_token/,
    ],
    [
      'registration_client_uri',
      (id) => ({ ...confidential, client_id: id, registration_client_uri: 'https://x' }),
      /registration_client_uri/,
    ],
    [
      'client_secret_expires_at',
      (id) => ({ ...confidential, client_id: id, client_secret_expires_at: 0 }),
      /client_secret_expires_at/,
    ],
    [
      'client_id_issued_at',
      (id) => ({ ...confidential, client_id: id, client_id_issued_at: 1 }),
      /client_id_issued_at/,
    ],
    ['a wrong client_secret', (id) => ({ ...confidential, client_id: id, client_secret: 'wrong' }), /client_secret/],
  ];
  for (const [name, makeBody, message] of forbidden) {
    it(`PUT refuses ${name} and changes nothing`, async () => {
      const { dcr, path, token, body } = await registered();
      const res = await send(dcr, 'PUT', path, makeBody(body.client_id), bearer(token));
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error, 'invalid_client_metadata');
      assert.match(res.body.error_description, message);
      const still = await send(dcr, 'GET', path, undefined, bearer(token));
      assert.equal(still.status, 200);
      assert.equal(still.body.client_name, 'Web App');
    });
  }

  it('PUT accepts the matching client_secret', async () => {
    const { dcr, path, token, body } = await registered();
    const res = await send(
      dcr,
      'PUT',
      path,
      { ...confidential, client_id: body.client_id, client_secret: body.client_secret },
      bearer(token),
    );
    assert.equal(res.status, 200, res.text);
  });

  it('PUT validates like registration', async () => {
    const { dcr, path, token, body } = await registered();
    const res = await send(
      dcr,
      'PUT',
      path,
      { ...confidential, client_id: body.client_id, redirect_uris: ['http://evil.example/cb'] },
      bearer(token),
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_redirect_uri');
  });

  it('PUT from public to confidential issues a first secret', async () => {
    const dcr = makeRegistration();
    const reg = await register(dcr, mcpClient);
    const path = new URL(reg.body.registration_client_uri).pathname;
    const res = await send(
      dcr,
      'PUT',
      path,
      { ...mcpClient, client_id: reg.body.client_id, token_endpoint_auth_method: 'client_secret_post' },
      bearer(reg.body.registration_access_token),
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(typeof res.body.client_secret, 'string');
    assert.equal(res.body.client_secret_expires_at, 0);
  });

  it('concurrent updates with the same token: exactly one wins', async () => {
    const { dcr, path, token, body } = await registered();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        send(dcr, 'PUT', path, { ...confidential, client_id: body.client_id }, bearer(token)),
      ),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.status === 401));
  });

  it('DELETE answers 204, after which the client reads as 401', async () => {
    const { dcr, path, token, store, body } = await registered();
    const res = await send(dcr, 'DELETE', path, undefined, bearer(token));
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal(await store.findClient(body.client_id), null);
    assert.equal((await send(dcr, 'GET', path, undefined, bearer(token))).status, 401);
    assert.equal((await send(dcr, 'DELETE', path, undefined, bearer(token))).status, 401);
  });

  it('answers PATCH with 405 and Allow', async () => {
    const { dcr, path, token } = await registered();
    const res = await send(dcr, 'PATCH', path, {}, bearer(token));
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, PUT, DELETE, OPTIONS');
  });
});

describe('Secret renewal (extension): POST {registration_client_uri}/secret', () => {
  it('issues a new secret; the old one works during the overlap, then stops', async () => {
    let now = 1_700_000_000;
    const { dcr, path, token, body, store } = await registered({ secretRenewalOverlap: 60, now: () => now });
    const res = await send(dcr, 'POST', `${path}/secret`, undefined, bearer(token));
    assert.equal(res.status, 200, res.text);
    assert.notEqual(res.body.client_secret, body.client_secret);
    assert.equal(res.body.client_secret_expires_at, 0);
    const record = (await store.findClient(body.client_id))!;
    assert.ok(isAcceptedSecret(record, res.body.client_secret, now));
    assert.ok(isAcceptedSecret(record, body.client_secret, now), 'old secret valid during the overlap');
    now += 61;
    assert.ok(!isAcceptedSecret(record, body.client_secret, now), 'old secret invalid after the overlap');
    assert.ok(isAcceptedSecret(record, res.body.client_secret, now));
  });

  it('without an overlap the old secret stops at once', async () => {
    const { dcr, path, token, body, store } = await registered();
    const res = await send(dcr, 'POST', `${path}/secret`, undefined, bearer(token));
    const record = (await store.findClient(body.client_id))!;
    assert.ok(!isAcceptedSecret(record, body.client_secret, Math.floor(Date.now() / 1000)));
    assert.ok(isAcceptedSecret(record, res.body.client_secret, Math.floor(Date.now() / 1000)));
  });

  it('refuses a public client, which has no secret', async () => {
    const dcr = makeRegistration();
    const reg = await register(dcr, mcpClient);
    const path = new URL(reg.body.registration_client_uri).pathname;
    const res = await send(dcr, 'POST', `${path}/secret`, undefined, bearer(reg.body.registration_access_token));
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_client_metadata');
  });

  it('an expired secret is refused', async () => {
    let now = 1_700_000_000;
    const { body, store } = await registered({ clientSecretTtl: 10, now: () => now });
    const record = (await store.findClient(body.client_id))!;
    assert.ok(isAcceptedSecret(record, body.client_secret, now));
    now += 10;
    assert.ok(!isAcceptedSecret(record, body.client_secret, now));
  });
});

/**
 * Secret renewal and PUT are compare-and-sets on the client's revision (and token): of concurrent
 * writes derived from the same read exactly one wins. A loser whose token the winner rotated gets
 * 401 invalid_token; a loser whose token still holds gets 409 invalid_request (read again, retry).
 *
 * Real concurrency through the endpoint, on every store. How far the requests overlap is up to the
 * backend: on memory and SQLite every read happens before the first write commits, so exactly one
 * wins; over PostgreSQL's pool a request may read after another's commit, and then both win, one
 * after the other. So the tests check what no scheduling can excuse: every 200 is one committed
 * write that nobody overwrote (the stored revision counts the 200s), and the secrets that work are
 * those of the last winners, never one a later write retired. Exactly-one from a single read is
 * also checked deterministically through the store API (test/stores/contract.ts).
 */
describe('Concurrent renewals and updates: one wins per read, on every store', () => {
  const N = 10;
  for (const backend of storageBackends()) {
    describe(backend.name, () => {
      let storage: ServerStorage;
      before(async () => {
        storage = await backend.open();
      });
      after(async () => {
        await storage.close();
        await backend.cleanup();
      });

      async function registeredOn(options: Partial<RegistrationOptions> = {}) {
        const dcr = makeRegistration({ store: storage.clients, ...options });
        const res = await register(dcr, confidential);
        assert.equal(res.status, 201, res.text);
        return {
          dcr,
          body: res.body,
          path: new URL(res.body.registration_client_uri).pathname,
          token: res.body.registration_access_token as string,
        };
      }

      async function stored(clientId: string) {
        return (await storage.clients.findClient(clientId))!;
      }

      /** Which of these secrets the stored client accepts now. */
      async function acceptedSecrets(clientId: string, secrets: string[]): Promise<string[]> {
        const record = await stored(clientId);
        const now = Math.floor(Date.now() / 1000);
        return secrets.filter((secret) => isAcceptedSecret(record, secret, now));
      }

      it(`${N} concurrent renewals: each 200 is a renewal that stands, the others 409`, async () => {
        const { dcr, body, path, token } = await registeredOn({ secretRenewalOverlap: 600 });
        const results = await Promise.all(
          Array.from({ length: N }, () => send(dcr, 'POST', `${path}/secret`, undefined, bearer(token))),
        );
        const winners = results.filter((r) => r.status === 200).map((r) => r.body.client_secret as string);
        assert.ok(winners.length >= 1);
        for (const loser of results.filter((r) => r.status !== 200)) {
          assert.equal(loser.status, 409, loser.text);
          assert.equal(loser.body.error, 'invalid_request');
          assert.equal(loser.body.client_secret, undefined);
        }
        assert.equal((await stored(body.client_id)).revision, winners.length, 'one committed renewal per 200');
        // With an overlap, the current secret and the one it replaced work. Renewals that all read
        // the registered client and all "won" would leave the registered secret as the previous one.
        const accepted = await acceptedSecrets(body.client_id, [body.client_secret, ...winners]);
        assert.equal(accepted.length, 2);
        assert.equal(accepted.includes(body.client_secret), winners.length === 1);
        // The token still holds: a loser can read the client again and retry.
        assert.equal((await send(dcr, 'POST', `${path}/secret`, undefined, bearer(token))).status, 200);
      });

      it('renewals racing updates that keep the token: the retired secret never comes back', async () => {
        const { dcr, body, path, token } = await registeredOn({ rotateRegistrationAccessToken: false });
        const update = { ...confidential, client_id: body.client_id, client_name: 'Renamed' };
        const results = await Promise.all(
          Array.from({ length: N }, (_, i) =>
            i % 2
              ? send(dcr, 'PUT', path, update, bearer(token))
              : send(dcr, 'POST', `${path}/secret`, undefined, bearer(token)),
          ),
        );
        const winners = results.filter((r) => r.status === 200);
        assert.ok(winners.length >= 1);
        assert.ok(
          results.every((r) => r.status === 200 || (r.status === 409 && r.body.error === 'invalid_request')),
          results.map((r) => r.status).join(),
        );
        assert.equal((await stored(body.client_id)).revision, winners.length, 'one committed write per 200');
        const renewed = winners
          .map((r) => r.body.client_secret as string | undefined)
          .filter((secret) => secret !== undefined);
        const accepted = await acceptedSecrets(body.client_id, [body.client_secret, ...renewed]);
        // No overlap: exactly one secret works, the last renewal's if any renewal won.
        assert.equal(accepted.length, 1);
        assert.equal(accepted[0] === body.client_secret, renewed.length === 0);
      });

      it('renewals racing token-rotating updates: losers whose token was rotated get 401', async () => {
        const { dcr, body, path, token } = await registeredOn();
        const update = { ...confidential, client_id: body.client_id };
        const results = await Promise.all(
          Array.from({ length: N }, (_, i) =>
            i % 2
              ? send(dcr, 'PUT', path, update, bearer(token))
              : send(dcr, 'POST', `${path}/secret`, undefined, bearer(token)),
          ),
        );
        const winners = results.filter((r) => r.status === 200);
        assert.equal((await stored(body.client_id)).revision, winners.length, 'one committed write per 200');
        // Every request used the registered token: once an update rotated it, nothing else can win.
        assert.ok(winners.filter((r) => r.body.registration_access_token !== undefined).length <= 1);
        const rotatedAt = winners.findIndex((r) => r.body.registration_access_token !== undefined);
        for (const loser of results.filter((r) => r.status !== 200)) {
          if (loser.status === 401) {
            assert.equal(loser.body.error, 'invalid_token');
            assert.match(loser.headers.get('www-authenticate')!, /^Bearer error="invalid_token"/);
          } else {
            assert.equal(loser.status, 409, loser.text);
          }
        }
        if (rotatedAt >= 0) {
          const rotated = winners[rotatedAt]!.body.registration_access_token as string;
          assert.equal((await send(dcr, 'GET', path, undefined, bearer(token))).status, 401);
          assert.equal((await send(dcr, 'GET', path, undefined, bearer(rotated))).status, 200);
        }
        const renewed = winners
          .map((r) => r.body.client_secret as string | undefined)
          .filter((secret) => secret !== undefined);
        const accepted = await acceptedSecrets(body.client_id, [body.client_secret, ...renewed]);
        assert.equal(accepted.length, 1);
        assert.equal(accepted[0] === body.client_secret, renewed.length === 0);
      });
    });
  }
});

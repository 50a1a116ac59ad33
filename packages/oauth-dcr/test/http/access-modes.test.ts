import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { memoryStore } from '../../src/store/memory.js';
import { makeRegistration, register, bearer, mcpClient } from '../support/registration.js';

describe('Registration modes (RFC 7591 §3)', () => {
  it('open registration records the client as anonymous', async () => {
    const store = memoryStore();
    const res = await register(makeRegistration({ store }), mcpClient);
    assert.equal((await store.findClient(res.body.client_id))!.registeredVia, 'anonymous');
  });

  it('closed registration answers a request without a token with 401 invalid_token', async () => {
    const res = await register(makeRegistration({ openRegistration: false }), mcpClient);
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_token');
    assert.match(res.headers.get('www-authenticate')!, /Bearer error="invalid_token"/);
  });

  it('an initial access token admits registrations until its uses run out', async () => {
    const store = memoryStore();
    const dcr = makeRegistration({ store, openRegistration: false });
    const { token, record } = await dcr.initialAccessTokens.create({ uses: 2, label: 'ci' });
    const first = await register(dcr, mcpClient, bearer(token));
    assert.equal(first.status, 201, first.text);
    const stored = (await store.findClient(first.body.client_id))!;
    assert.equal(stored.registeredVia, 'initial_access_token');
    assert.equal(stored.registeredBy, record.id);
    assert.equal((await register(dcr, mcpClient, bearer(token))).status, 201);
    const third = await register(dcr, mcpClient, bearer(token));
    assert.equal(third.status, 401);
    assert.equal(third.body.error, 'invalid_token');
  });

  it('a bad token is refused even when registration is open', async () => {
    const res = await register(makeRegistration(), mcpClient, bearer('not-a-real-token'));
    assert.equal(res.status, 401);
  });

  it('an invalid registration does not spend a use', async () => {
    const dcr = makeRegistration({ openRegistration: false });
    const { token } = await dcr.initialAccessTokens.create({ uses: 1 });
    const bad = await register(dcr, { redirect_uris: ['http://evil.example/cb'] }, bearer(token));
    assert.equal(bad.status, 400);
    assert.equal((await register(dcr, mcpClient, bearer(token))).status, 201);
  });

  it('expired and revoked tokens are refused', async () => {
    let now = 1_700_000_000;
    const dcr = makeRegistration({ openRegistration: false, now: () => now });
    const expiring = await dcr.initialAccessTokens.create({ expiresIn: 60 });
    const revoked = await dcr.initialAccessTokens.create();
    assert.equal(await dcr.initialAccessTokens.revoke(revoked.record.id), true);
    assert.equal((await register(dcr, mcpClient, bearer(revoked.token))).status, 401);
    assert.equal((await register(dcr, mcpClient, bearer(expiring.token))).status, 201);
    now += 61;
    assert.equal((await register(dcr, mcpClient, bearer(expiring.token))).status, 401);
  });

  it('concurrent registrations never over-use a token', async () => {
    const dcr = makeRegistration({ openRegistration: false });
    const { token } = await dcr.initialAccessTokens.create({ uses: 3 });
    const results = await Promise.all(Array.from({ length: 20 }, () => register(dcr, mcpClient, bearer(token))));
    assert.equal(results.filter((r) => r.status === 201).length, 3);
    assert.equal(results.filter((r) => r.status === 401).length, 17);
  });

  it('authenticated registration records the principal', async () => {
    const store = memoryStore();
    const dcr = makeRegistration({
      store,
      openRegistration: false,
      authenticate: (ctx) => (ctx.header('x-api-key') === 'k-123' ? 'service:builder' : null),
    });
    const res = await register(dcr, mcpClient, { 'x-api-key': 'k-123' });
    assert.equal(res.status, 201, res.text);
    const stored = (await store.findClient(res.body.client_id))!;
    assert.equal(stored.registeredVia, 'authenticated');
    assert.equal(stored.registeredBy, 'service:builder');
    assert.equal((await register(dcr, mcpClient, { 'x-api-key': 'wrong' })).status, 401);
  });

  it('applies per-tier grant ceilings: client_credentials only through an initial access token', async () => {
    const dcr = makeRegistration({
      tiers: {
        initial_access_token: { allowedGrantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] },
      },
    });
    const worker = { client_name: 'worker', grant_types: ['client_credentials'] };
    const anonymous = await register(dcr, worker);
    assert.equal(anonymous.status, 400);
    assert.equal(
      anonymous.body.error_description,
      "Grant type 'client_credentials' is not allowed for dynamic registration",
    );
    const { token } = await dcr.initialAccessTokens.create();
    const admitted = await register(dcr, worker, bearer(token));
    assert.equal(admitted.status, 201, admitted.text);
    assert.ok(dcr.serverMetadata().grant_types_supported.includes('client_credentials'));
  });

  it('lists initial access tokens without their secrets', async () => {
    const dcr = makeRegistration();
    const { token } = await dcr.initialAccessTokens.create({ uses: 5, label: 'team' });
    const list = await dcr.initialAccessTokens.list();
    assert.equal(list.length, 1);
    assert.equal(list[0]!.label, 'team');
    assert.equal(list[0]!.usesRemaining, 5);
    assert.ok(!JSON.stringify(list).includes(token));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRateLimited, raw, registerFrom, watched } from './support.js';

const LIMITS = {
  perAddress: false as const,
  failedAuthPerAddress: { points: 3, duration: 60 },
  failedAuthPerClient: { points: 5, duration: 60 },
};

async function setUp() {
  const { dcr, events } = watched({ rateLimits: LIMITS });
  const created = await registerFrom(dcr, '198.51.100.1');
  assert.equal(created.status, 201);
  const path = new URL(created.body.registration_client_uri).pathname;
  const token = created.body.registration_access_token as string;
  const read = (peer: string, bearer: string) =>
    raw(dcr, { method: 'GET', path, peer, headers: { authorization: `Bearer ${bearer}` } });
  return { dcr, events, path, token, read, clientId: created.body.client_id as string };
}

describe('Failed authentication limits', () => {
  it('RFC 7592: an address over its failure budget is refused before its token is compared; a correct token from elsewhere passes', async () => {
    const { read, token, events } = await setUp();
    for (let i = 0; i < 3; i++) assert.equal((await read('203.0.113.66', 'guess')).status, 401);
    const refused = await read('203.0.113.66', 'guess');
    assert.ok(isRateLimited(refused), JSON.stringify(refused));
    assert.match(refused.body.error_description, /failed authentication attempts from this address/);
    // Even the right token: this address is refused before anything is compared.
    assert.equal((await read('203.0.113.66', token)).status, 429);
    // The client itself, from its own address, is not slowed at all.
    assert.equal((await read('198.51.100.1', token)).status, 200);
    assert.equal(events.filter((e) => e.type === 'token.rejected').length, 3);
  });

  it('RFC 7592: a client_id over its failure limit answers wrong tokens 429, its correct token still 200', async () => {
    const { read, token, events, clientId } = await setUp();
    // An attacker spread over many addresses: each address stays under its own budget.
    for (let i = 0; i < 5; i++) assert.equal((await read(`203.0.113.${i + 1}`, 'guess')).status, 401);
    for (let i = 5; i < 10; i++) assert.ok(isRateLimited(await read(`203.0.113.${i + 1}`, 'guess')));
    assert.equal((await read('198.51.100.200', token)).status, 200);
    const limited = events.filter((e) => e.type === 'request.rate_limited');
    assert.equal(limited.length, 1, 'one event for the whole flood');
    assert.equal(limited[0]?.clientId, clientId);
    assert.deepEqual(limited[0]?.detail, { limit: 'failed_auth_client', endpoint: 'client_configuration' });
  });

  it('only failures count: a client reading itself many times is never limited', async () => {
    const { read, token } = await setUp();
    for (let i = 0; i < 30; i++) assert.equal((await read('198.51.100.1', token)).status, 200);
  });

  it('RFC 7592 answers a disabled client 401 invalid_token, even with its token; enabled again, it reads', async () => {
    const { dcr, read, token, clientId, path } = await setUp();
    assert.ok(await dcr.store.setClientDisabled(clientId, dcr.now()));
    const disabled = await read('198.51.100.1', token);
    assert.equal(disabled.status, 401);
    assert.equal(disabled.body.error, 'invalid_token');
    assert.match(String(disabled.headers['WWW-Authenticate']), /invalid_token/);
    const put = await raw(dcr, {
      method: 'PUT',
      path,
      peer: '198.51.100.1',
      headers: { authorization: `Bearer ${token}` },
      body: { client_id: clientId, redirect_uris: ['http://127.0.0.1:1/cb'], token_endpoint_auth_method: 'none' },
    });
    assert.equal(put.status, 401);
    assert.equal(
      (await raw(dcr, { method: 'DELETE', path, peer: '198.51.100.1', headers: { authorization: `Bearer ${token}` } }))
        .status,
      401,
    );
    assert.ok(await dcr.store.setClientDisabled(clientId, null));
    assert.equal((await read('198.51.100.1', token)).status, 200);
  });

  it('Registration.authenticationLimits, for the host’s token, revocation and introspection endpoints', async () => {
    const { dcr, events } = watched({ rateLimits: LIMITS });
    const limits = dcr.authenticationLimits;
    assert.equal(await limits.checkAddress('203.0.113.50', 'token'), null);
    for (let i = 0; i < 3; i++) {
      assert.equal(await limits.recordFailure({ clientId: 'c1', address: '203.0.113.50', endpoint: 'token' }), null);
    }
    const blocked = await limits.checkAddress('203.0.113.50', 'token');
    assert.equal(blocked?.limit, 'failed_auth_address');
    assert.equal(blocked?.error.status, 429);
    assert.equal(blocked?.error.headers['Retry-After'], String(blocked?.retryAfter));
    assert.deepEqual(blocked?.error.toJSON().error, 'temporarily_unavailable');
    assert.equal(await limits.checkAddress('203.0.113.51', 'token'), null);
    // The next failure from that address is over too (it would only come from a host that skipped the check).
    const over = await limits.recordFailure({ clientId: 'c2', address: '203.0.113.50', endpoint: 'token' });
    assert.equal(over?.limit, 'failed_auth_address');
    const failed = events.filter((e) => e.type === 'client.authentication_failed');
    assert.deepEqual(
      failed.map((e) => [e.clientId, e.ip, e.detail]),
      Array.from({ length: 3 }, () => ['c1', '203.0.113.50', { endpoint: 'token' }]),
    );
    assert.equal(events.filter((e) => e.type === 'request.rate_limited').length, 1);
    // No address known: only the client_id counts.
    assert.equal(await limits.checkAddress(undefined, 'token'), null);
    assert.equal(await limits.recordFailure({ clientId: 'c3', endpoint: 'introspection' }), null);
  });
});

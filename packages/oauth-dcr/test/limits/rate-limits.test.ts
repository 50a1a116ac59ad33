import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRateLimited, mcpClient, raw, registerFrom, watched } from './support.js';
import { makeRegistration } from '../support/registration.js';

const ONLY_ADDRESS = (points: number, burst?: number) => ({
  perAddress: { points, duration: 60, ...(burst === undefined ? {} : { burst }) },
  perSoftware: false as const,
});

describe('Registration rate limits', () => {
  it('are on by default: one address gets the documented rate plus burst (60 + 30), then 429; another address does not notice', async () => {
    const dcr = makeRegistration();
    for (let i = 0; i < 90; i++)
      assert.equal((await registerFrom(dcr, '203.0.113.7')).status, 201, `registration ${i}`);
    const refused = await registerFrom(dcr, '203.0.113.7');
    assert.ok(isRateLimited(refused), JSON.stringify(refused));
    assert.ok(Number(refused.headers['Retry-After']) <= 3600);
    assert.equal((await registerFrom(dcr, '203.0.113.8')).status, 201);
  });

  it('a rate without a burst refuses the request after the rate, with Retry-After within the window', async () => {
    const dcr = makeRegistration({ rateLimits: ONLY_ADDRESS(2) });
    assert.equal((await registerFrom(dcr, '198.51.100.1')).status, 201);
    assert.equal((await registerFrom(dcr, '198.51.100.1')).status, 201);
    const refused = await registerFrom(dcr, '198.51.100.1');
    assert.ok(isRateLimited(refused));
    const retryAfter = Number(refused.headers['Retry-After']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.match(refused.body.error_description, /Too many registration requests from this address/);
    // The refusal is an answer like every other: JSON, never cached.
    assert.equal(refused.headers['Content-Type'], 'application/json');
    assert.equal(refused.headers['Cache-Control'], 'no-store');
  });

  it('a burst lets that many more through at once, then refuses', async () => {
    const dcr = makeRegistration({ rateLimits: ONLY_ADDRESS(2, 3) });
    for (let i = 0; i < 5; i++) assert.equal((await registerFrom(dcr, '198.51.100.2')).status, 201);
    assert.ok(isRateLimited(await registerFrom(dcr, '198.51.100.2')));
  });

  it('counts every attempt, refused ones too, and refuses before the body is read', async () => {
    const dcr = makeRegistration({ rateLimits: ONLY_ADDRESS(2) });
    assert.equal((await raw(dcr, { peer: '198.51.100.3', body: '{not json' })).status, 400);
    assert.equal(
      (await raw(dcr, { peer: '198.51.100.3', body: { redirect_uris: ['http://evil.example/'] } })).status,
      400,
    );
    // A body that never arrives: were it read, this would hang.
    const never: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => {}) }),
    };
    const result = await dcr.handleRaw({
      method: 'POST',
      url: 'https://as.example.com/register',
      path: '/register',
      header: (name) => (name === 'content-type' ? 'application/json' : undefined),
      body: never,
      remoteAddress: '198.51.100.3',
    });
    assert.equal(result.status, 429);
    assert.equal(JSON.parse(result.body ?? '{}').error, 'temporarily_unavailable');
  });

  it('keys IPv6 clients by their /64 and an IPv4-mapped peer as its IPv4 address', async () => {
    const dcr = makeRegistration({ rateLimits: ONLY_ADDRESS(1) });
    assert.equal((await registerFrom(dcr, '2001:db8:1:2::1')).status, 201);
    assert.ok(isRateLimited(await registerFrom(dcr, '2001:db8:1:2:ffff::9')));
    assert.equal((await registerFrom(dcr, '2001:db8:1:3::1')).status, 201);
    assert.equal((await registerFrom(dcr, '192.0.2.10')).status, 201);
    assert.ok(isRateLimited(await registerFrom(dcr, '::ffff:192.0.2.10')));
  });

  it('reports a flood as one request.rate_limited event per key and window, never as registration.rejected', async () => {
    const { dcr, events } = watched({ rateLimits: ONLY_ADDRESS(1), persistAuditEvents: true });
    await registerFrom(dcr, '198.51.100.4');
    for (let i = 0; i < 20; i++) assert.ok(isRateLimited(await registerFrom(dcr, '198.51.100.4')));
    await registerFrom(dcr, '198.51.100.5');
    assert.ok(isRateLimited(await registerFrom(dcr, '198.51.100.5')));
    const limited = events.filter((e) => e.type === 'request.rate_limited');
    assert.deepEqual(
      limited.map((e) => [e.ip, e.detail]),
      [
        ['198.51.100.4', { limit: 'address', endpoint: 'registration' }],
        ['198.51.100.5', { limit: 'address', endpoint: 'registration' }],
      ],
    );
    assert.equal(events.filter((e) => e.type === 'registration.rejected').length, 0);
    await new Promise((resolve) => setImmediate(resolve));
    const persisted = await dcr.store.listAuditEvents({ type: 'request.rate_limited' });
    assert.equal(persisted.length, 2);
  });

  it('limits registrations per initial access token, counted before the body, whatever the address', async () => {
    const dcr = makeRegistration({
      openRegistration: false,
      rateLimits: { perAddress: false, perSoftware: false, perInitialAccessToken: { points: 2, duration: 60 } },
    });
    const { token } = await dcr.initialAccessTokens.create();
    const { token: other } = await dcr.initialAccessTokens.create();
    const withToken = (t: string, peer: string, body: unknown = mcpClient) =>
      raw(dcr, { peer, body, headers: { authorization: `Bearer ${t}` } });
    assert.equal((await withToken(token, '198.51.100.6')).status, 201);
    assert.equal((await withToken(token, '198.51.100.7', '{broken')).status, 400);
    const refused = await withToken(token, '198.51.100.8');
    assert.ok(isRateLimited(refused));
    assert.match(refused.body.error_description, /initial access token/);
    assert.equal((await withToken(other, '198.51.100.6')).status, 201);
  });

  it('limits registrations per software_id, across addresses; other software and none are not held', async () => {
    const dcr = makeRegistration({ rateLimits: { perAddress: false, perSoftware: { points: 1, duration: 60 } } });
    const acme = { ...mcpClient, software_id: 'acme-cli' };
    assert.equal((await registerFrom(dcr, '198.51.100.9', acme)).status, 201);
    const refused = await registerFrom(dcr, '198.51.100.10', acme);
    assert.ok(isRateLimited(refused));
    assert.match(refused.body.error_description, /this software/);
    assert.equal((await registerFrom(dcr, '198.51.100.10', { ...mcpClient, software_id: 'other' })).status, 201);
    assert.equal((await registerFrom(dcr, '198.51.100.10')).status, 201);
    assert.equal((await registerFrom(dcr, '198.51.100.10')).status, 201);
  });

  it('rateLimits: false turns every limit off; a limit set to false turns that one off', async () => {
    const off = makeRegistration({ rateLimits: false });
    const one = makeRegistration({
      rateLimits: { perAddress: false, failedAuthPerAddress: { points: 1, duration: 60 } },
    });
    for (let i = 0; i < 100; i++) assert.equal((await registerFrom(off, '198.51.100.11')).status, 201);
    for (let i = 0; i < 100; i++) assert.equal((await registerFrom(one, '198.51.100.11')).status, 201);
  });

  it('refuses bad limit settings at start-up', () => {
    assert.throws(() => makeRegistration({ rateLimits: { perAddress: { points: 0, duration: 60 } } }), TypeError);
    assert.throws(() => makeRegistration({ rateLimits: { perAddress: { points: 1, duration: 0.5 } } }), TypeError);
    assert.throws(
      () => makeRegistration({ rateLimits: { perAddress: { points: 1, duration: 1, burst: -1 } } }),
      TypeError,
    );
    assert.throws(() => makeRegistration({ rateLimits: { onStoreError: 'maybe' as 'open' } }), TypeError);
    assert.throws(() => makeRegistration({ trustProxy: ['10.0.0.0/33'] }), /trustProxy/);
    assert.throws(() => makeRegistration({ registrationAddresses: { deny: ['nope'] } }), /registrationAddresses\.deny/);
  });

  it('a refused registration names who asked, from where and in which tier', async () => {
    const { dcr, events } = watched();
    await registerFrom(dcr, '198.51.100.12', { redirect_uris: ['http://evil.example/'] });
    const [rejected] = events;
    assert.equal(rejected?.type, 'registration.rejected');
    assert.equal(rejected?.ip, '198.51.100.12');
    assert.equal(rejected?.actor, 'anonymous');
    assert.equal(rejected?.detail?.via, 'anonymous');
    assert.equal(rejected?.detail?.error, 'invalid_redirect_uri');
  });
});

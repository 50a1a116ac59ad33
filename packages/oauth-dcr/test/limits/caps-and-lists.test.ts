import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryStore } from '../../src/store/memory.js';
import { makeRegistration } from '../support/registration.js';
import { mcpClient, raw, registerFrom, watched } from './support.js';

const NO_RATES = false as const;

describe('Registration caps', () => {
  it('a total cap refuses the next registration with 503 temporarily_unavailable, as an event', async () => {
    const { dcr, events } = watched({ rateLimits: NO_RATES, registrationCaps: { total: 3 } });
    for (let i = 0; i < 3; i++) assert.equal((await registerFrom(dcr, '198.51.100.1')).status, 201);
    const refused = await registerFrom(dcr, '198.51.100.1');
    assert.equal(refused.status, 503);
    assert.deepEqual(Object.keys(refused.body).sort(), ['error', 'error_description']);
    assert.equal(refused.body.error, 'temporarily_unavailable');
    const rejected = events.find((e) => e.type === 'registration.rejected');
    assert.equal(rejected?.detail?.error, 'temporarily_unavailable');
    assert.equal(rejected?.detail?.via, 'anonymous');
    assert.equal((await dcr.store.countClients()).total, 3);
  });

  it('a cap per tier holds that tier only', async () => {
    const dcr = makeRegistration({ rateLimits: NO_RATES, registrationCaps: { perTier: { anonymous: 2 } } });
    for (let i = 0; i < 2; i++) assert.equal((await registerFrom(dcr, '198.51.100.1')).status, 201);
    assert.equal((await registerFrom(dcr, '198.51.100.1')).status, 503);
    const { token } = await dcr.initialAccessTokens.create();
    const withToken = await raw(dcr, {
      peer: '198.51.100.1',
      body: mcpClient,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(withToken.status, 201);
  });

  it('counts clients already stored, and is soft across instances: another instance is seen at its next refresh', async () => {
    const store = memoryStore();
    let clock = 1_000_000;
    const options = { store, rateLimits: NO_RATES, registrationCaps: { total: 3 }, now: () => clock };
    const a = makeRegistration(options);
    const b = makeRegistration(options);
    assert.equal((await registerFrom(b, '198.51.100.2')).status, 201);
    for (let i = 0; i < 2; i++) assert.equal((await registerFrom(a, '198.51.100.2')).status, 201);
    assert.equal((await registerFrom(a, '198.51.100.2')).status, 503);
    // b read the count before a's two: within the refresh interval it may overshoot...
    assert.equal((await registerFrom(b, '198.51.100.2')).status, 201);
    // ...and after it, it sees them.
    clock += 5;
    assert.equal((await registerFrom(b, '198.51.100.2')).status, 503);
  });
});

describe('Address lists for open registration', () => {
  it('a denied address cannot register without a token (401 invalid_token), but can with one', async () => {
    const { dcr, events } = watched({ rateLimits: NO_RATES, registrationAddresses: { deny: ['203.0.113.0/24'] } });
    const refused = await registerFrom(dcr, '203.0.113.9');
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'invalid_token');
    assert.equal(events.at(-1)?.ip, '203.0.113.9');
    assert.equal((await registerFrom(dcr, '198.51.100.9')).status, 201);
    const { token } = await dcr.initialAccessTokens.create();
    const withToken = await raw(dcr, {
      peer: '203.0.113.9',
      body: mcpClient,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(withToken.status, 201);
  });

  it('with an allow list only those addresses register openly; deny is checked first; IPv6 CIDRs work', async () => {
    const dcr = makeRegistration({
      rateLimits: NO_RATES,
      registrationAddresses: { allow: ['198.51.100.0/24', '2001:db8::/32'], deny: ['198.51.100.7'] },
    });
    assert.equal((await registerFrom(dcr, '198.51.100.6')).status, 201);
    assert.equal((await registerFrom(dcr, '198.51.100.7')).status, 401);
    assert.equal((await registerFrom(dcr, '192.0.2.1')).status, 401);
    assert.equal((await registerFrom(dcr, '2001:db8::1')).status, 201);
    assert.equal((await registerFrom(dcr, '::ffff:198.51.100.6')).status, 201);
    // An address the endpoint was not told cannot be on the allow list.
    assert.equal((await registerFrom(dcr, undefined)).status, 401);
  });
});

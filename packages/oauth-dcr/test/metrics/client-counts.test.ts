// The clients-per-tier gauge of oauth-dcr/prometheus: read from the store on scrape, reused for
// clientCountMaxAge so that a scrape storm does not count a large store each time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistration, type Registration } from 'oauth-dcr';
import { memoryStore } from 'oauth-dcr/memory';
import { registrationMetrics } from 'oauth-dcr/prometheus';
import { register as globalRegistry, Registry } from 'prom-client';
import { parseExposition, sampleValue } from '../support/prometheus-text.js';

const ISSUER = 'https://as.example.com';
const TIERS = [
  'anonymous',
  'initial_access_token',
  'authenticated',
  'software_statement',
  'metadata_document',
  'attested',
  'admin',
];

async function registerClient(dcr: Registration, headers: Record<string, string> = {}): Promise<void> {
  const response = await dcr(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    }),
  );
  assert.equal(response.status, 201, await response.text());
}

async function clientsGauge(registry: Registry): Promise<Record<string, number>> {
  const samples = parseExposition(await registry.metrics());
  return Object.fromEntries(TIERS.map((tier) => [tier, sampleValue(samples, 'oauth_dcr_clients', { tier })]));
}

describe('oauth-dcr/prometheus: clients per tier', () => {
  it('reports every tier, counted from the store, on scrape', async () => {
    const registry = new Registry();
    const dcr = createRegistration({ store: memoryStore(), issuer: ISSUER, onError: () => {} });
    registrationMetrics({ registration: dcr, registry, clientCountMaxAge: 0 });
    await registerClient(dcr);
    await registerClient(dcr);
    const { token } = await dcr.initialAccessTokens.create();
    await registerClient(dcr, { authorization: `Bearer ${token}` });

    assert.deepEqual(await clientsGauge(registry), {
      anonymous: 2,
      initial_access_token: 1,
      authenticated: 0,
      software_statement: 0,
      metadata_document: 0,
      attested: 0,
      admin: 0,
    });
    // Counted from the store, not from events: a client deleted behind the endpoint's back is gone.
    const [first] = await dcr.store.listClients({ limit: 1 });
    await dcr.store.deleteClient(first!.clientId);
    const after = await clientsGauge(registry);
    assert.equal(after.anonymous! + after.initial_access_token!, 2);
  });

  it('reuses a count for clientCountMaxAge seconds (default 15)', async () => {
    const registry = new Registry();
    const dcr = createRegistration({ store: memoryStore(), issuer: ISSUER, onError: () => {} });
    registrationMetrics({ registration: dcr, registry });
    await registerClient(dcr);
    assert.equal((await clientsGauge(registry)).anonymous, 1);
    await registerClient(dcr);
    await registerClient(dcr);
    // Well within 15 s of the first count: the scrape storm reads the cached count.
    const storm = await Promise.all(Array.from({ length: 20 }, () => clientsGauge(registry)));
    assert.ok(storm.every((gauge) => gauge.anonymous === 1));
  });

  it('keeps the last count when the store fails, and the scrape still answers', async () => {
    const registry = new Registry();
    const store = memoryStore();
    const dcr = createRegistration({ store, issuer: ISSUER, onError: () => {} });
    registrationMetrics({ registration: dcr, registry, clientCountMaxAge: 0 });
    await registerClient(dcr);
    assert.equal((await clientsGauge(registry)).anonymous, 1);
    await store.close();
    await assert.rejects(store.countClients());
    assert.equal((await clientsGauge(registry)).anonymous, 1);
  });

  it("registers in prom-client's global registry unless given one, under the chosen prefix", async () => {
    const dcr = createRegistration({ store: memoryStore(), issuer: ISSUER, onError: () => {} });
    registrationMetrics({ registration: dcr, prefix: 'test_global_' });
    try {
      await registerClient(dcr);
      const samples = parseExposition(await globalRegistry.metrics());
      assert.equal(sampleValue(samples, 'test_global_clients', { tier: 'anonymous' }), 1);
    } finally {
      for (const name of ['registrations_total', 'rate_limited_keys_total', 'client_document_fetches_total']) {
        globalRegistry.removeSingleMetric(`test_global_${name}`);
      }
      globalRegistry.removeSingleMetric('test_global_client_authentication_failures_total');
      globalRegistry.removeSingleMetric('test_global_clients');
    }
  });

  it('refuses to start without a registration or store', () => {
    assert.throws(
      () => registrationMetrics({ registration: undefined as unknown as Registration, registry: new Registry() }),
      TypeError,
    );
    const dcr = createRegistration({ store: memoryStore(), issuer: ISSUER, onError: () => {} });
    assert.throws(() => registrationMetrics({ registration: dcr, clientCountMaxAge: -1 }), TypeError);
  });
});

// oauth-dcr/prometheus through a real registration endpoint (memory store) and read back from the
// registry's text exposition, as Prometheus would scrape it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistration, type AuditEvent, type Registration, type RegistrationOptions } from 'oauth-dcr';
import { memoryStore } from 'oauth-dcr/memory';
import { registrationMetrics, type RegistrationMetrics } from 'oauth-dcr/prometheus';
import { Registry } from 'prom-client';
import { parseExposition, sampleSum, sampleValue, type Sample } from '../support/prometheus-text.js';

const ISSUER = 'https://as.example.com';
const publicClient = {
  client_name: 'Metrics Test Client',
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  token_endpoint_auth_method: 'none',
};

interface Endpoint {
  dcr: Registration;
  metrics: RegistrationMetrics;
  events: AuditEvent[];
  scrape(): Promise<Sample[]>;
}

/** A registration endpoint whose events feed its metrics, in a registry of its own. */
function endpoint(options: Partial<RegistrationOptions> = {}, clientCountMaxAge?: number): Endpoint {
  const events: AuditEvent[] = [];
  const registry = new Registry();
  const store = options.store ?? memoryStore();
  // The metrics are built before the endpoint, whose onEvent must name them: `{ store }` fits.
  const metrics = registrationMetrics({
    registration: { store },
    registry,
    ...(clientCountMaxAge === undefined ? {} : { clientCountMaxAge }),
  });
  const dcr = createRegistration({
    issuer: ISSUER,
    onError: () => {},
    ...options,
    store,
    onEvent: (event) => {
      events.push(event);
      metrics.onEvent(event);
    },
  });
  return { dcr, metrics, events, scrape: async () => parseExposition(await registry.metrics()) };
}

async function register(dcr: Registration, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return dcr(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
}

describe('oauth-dcr/prometheus: registrations by tier and outcome', () => {
  it('counts a registration as success under its tier, and a refusal under its error code', async () => {
    const { dcr, events, scrape } = endpoint();
    assert.equal((await register(dcr, publicClient)).status, 201);
    assert.equal((await register(dcr, publicClient)).status, 201);
    assert.equal((await register(dcr, { redirect_uris: ['http://evil.example/cb'] })).status, 400);
    assert.equal((await register(dcr, { ...publicClient, grant_types: ['password'] })).status, 400);

    const samples = await scrape();
    assert.equal(sampleValue(samples, 'oauth_dcr_registrations_total', { tier: 'anonymous', outcome: 'success' }), 2);
    // The tier of a refusal is the one its event names (known once the request was admitted).
    for (const [error, count] of [
      ['invalid_redirect_uri', 1],
      ['invalid_client_metadata', 1],
    ] as const) {
      const rejected = events.find((e) => e.type === 'registration.rejected' && e.detail?.error === error);
      assert.ok(rejected, `a registration.rejected event for ${error}`);
      const tier = typeof rejected.detail?.via === 'string' ? rejected.detail.via : 'unknown';
      assert.equal(sampleValue(samples, 'oauth_dcr_registrations_total', { tier, outcome: error }), count, error);
    }
    assert.equal(sampleSum(samples, 'oauth_dcr_registrations_total'), 4);
  });

  it('counts initial access token registrations under their own tier', async () => {
    const { dcr, scrape } = endpoint({ openRegistration: false });
    const { token } = await dcr.initialAccessTokens.create({ label: 'metrics' });
    const admitted = await register(dcr, publicClient, { authorization: `Bearer ${token}` });
    assert.equal(admitted.status, 201);
    assert.equal((await register(dcr, publicClient)).status, 401);

    const samples = await scrape();
    assert.equal(
      sampleValue(samples, 'oauth_dcr_registrations_total', { tier: 'initial_access_token', outcome: 'success' }),
      1,
    );
    assert.equal(sampleSum(samples, 'oauth_dcr_registrations_total', { outcome: 'invalid_token' }), 1);
  });

  it('never puts a client_id, an address or a document host in a label', async () => {
    const { dcr, metrics, scrape } = endpoint();
    const created = (await (await register(dcr, publicClient)).json()) as { client_id: string };
    metrics.onEvent({
      type: 'client_document.fetched',
      at: 0,
      clientId: 'https://attacker.example/client.json',
      ip: '203.0.113.7',
      detail: { outcome: 'refused', host: 'attacker.example' },
    });
    metrics.onEvent({
      type: 'client.authentication_failed',
      at: 0,
      clientId: created.client_id,
      ip: '203.0.113.7',
      detail: { endpoint: 'token' },
    });
    const text = JSON.stringify(await scrape());
    for (const value of [created.client_id, '203.0.113.7', 'attacker.example']) {
      assert.ok(!text.includes(value), `${value} is not in the metrics`);
    }
  });
});

/** A registration from `address`, as the node:http and Express adapters hand it to the core. */
async function registerFrom(dcr: Registration, address: string): Promise<number> {
  const body = new TextEncoder().encode(JSON.stringify(publicClient));
  const result = await dcr.handleRaw({
    method: 'POST',
    url: `${ISSUER}/register`,
    header: (name) => (name.toLowerCase() === 'content-type' ? 'application/json' : undefined),
    body: (async function* () {
      yield body;
    })(),
    remoteAddress: address,
  });
  return result.status;
}

describe('oauth-dcr/prometheus: limits, documents and failed authentication', () => {
  it('counts an address over its registration limit once per window, under limit="address"', async () => {
    const { dcr, scrape } = endpoint({ rateLimits: { perAddress: { points: 2, duration: 3600 } } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await registerFrom(dcr, '198.51.100.7'));
    statuses.push(await registerFrom(dcr, '198.51.100.8'));
    assert.deepEqual(statuses, [201, 201, 429, 429, 429, 201]);

    const samples = await scrape();
    assert.equal(sampleSum(samples, 'oauth_dcr_rate_limited_keys_total', { limit: 'address' }), 1);
    assert.equal(sampleSum(samples, 'oauth_dcr_rate_limited_keys_total'), 1);
    assert.equal(sampleValue(samples, 'oauth_dcr_registrations_total', { tier: 'anonymous', outcome: 'success' }), 3);
    assert.ok(!JSON.stringify(samples).includes('198.51.100'), 'no address in a label');
  });

  it('counts wrong registration access tokens (RFC 7592) as failed authentication, then the limit', async () => {
    const { dcr, scrape } = endpoint({
      rateLimits: { failedAuthPerClient: { points: 3, duration: 3600 }, failedAuthPerAddress: false },
    });
    const created = (await (await register(dcr, publicClient)).json()) as { registration_client_uri: string };
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const read = await dcr(
        new Request(created.registration_client_uri, { headers: { authorization: 'Bearer wrong-token' } }),
      );
      statuses.push(read.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);

    const samples = await scrape();
    const failures = 'oauth_dcr_client_authentication_failures_total';
    assert.equal(sampleValue(samples, failures, { endpoint: 'client_configuration' }), 5);
    assert.equal(sampleSum(samples, 'oauth_dcr_rate_limited_keys_total', { limit: 'failed_auth_client' }), 1);
  });

  it('counts each event kind under fixed labels', async () => {
    const { metrics, scrape } = endpoint();
    const events: Array<[AuditEvent['type'], Record<string, unknown>]> = [
      ['request.rate_limited', { limit: 'address', endpoint: 'register' }],
      ['request.rate_limited', { limit: 'address', endpoint: 'register' }],
      ['request.rate_limited', { limit: 'software', endpoint: 'register' }],
      ['request.rate_limited', { limit: 'client', endpoint: 'token' }],
      ['client_document.fetched', { outcome: 'ok', host: 'app.example' }],
      ['client_document.fetched', { outcome: 'refused', host: 'app.example' }],
      ['client_document.fetched', { outcome: 'error', host: 'other.example' }],
      ['client.authentication_failed', { endpoint: 'token' }],
      ['client.authentication_failed', { endpoint: 'introspect' }],
      ['client.authentication_failed', { endpoint: 'token' }],
    ];
    for (const [type, detail] of events) metrics.onEvent({ type, at: 0, detail });

    const samples = await scrape();
    const rateLimited = 'oauth_dcr_rate_limited_keys_total';
    assert.equal(sampleValue(samples, rateLimited, { limit: 'address', endpoint: 'register' }), 2);
    assert.equal(sampleValue(samples, rateLimited, { limit: 'software', endpoint: 'register' }), 1);
    assert.equal(sampleValue(samples, rateLimited, { limit: 'client', endpoint: 'token' }), 1);
    for (const outcome of ['ok', 'refused', 'error']) {
      assert.equal(sampleValue(samples, 'oauth_dcr_client_document_fetches_total', { outcome }), 1, outcome);
    }
    const failures = 'oauth_dcr_client_authentication_failures_total';
    assert.equal(sampleValue(samples, failures, { endpoint: 'token' }), 2);
    assert.equal(sampleValue(samples, failures, { endpoint: 'introspect' }), 1);
  });

  it('maps a value outside the known set to other, so no value can grow the series', async () => {
    const { metrics, scrape } = endpoint();
    for (let i = 0; i < 50; i++) {
      metrics.onEvent({ type: 'registration.rejected', at: 0, detail: { via: `tier${i}`, error: `made_up_${i}` } });
      metrics.onEvent({ type: 'request.rate_limited', at: 0, detail: { limit: `Key ${i}"}`, endpoint: `/x/${i}` } });
      metrics.onEvent({ type: 'client_document.fetched', at: 0, detail: { outcome: `outcome-${i}` } });
    }
    const samples = await scrape();
    const names = [
      'oauth_dcr_registrations_total',
      'oauth_dcr_rate_limited_keys_total',
      'oauth_dcr_client_document_fetches_total',
    ];
    for (const name of names) {
      assert.equal(samples.filter((sample) => sample.name === name).length, 1, name);
    }
    assert.equal(sampleValue(samples, names[0]!, { tier: 'unknown', outcome: 'other' }), 50);
    assert.equal(sampleValue(samples, names[1]!, { limit: 'other', endpoint: 'other' }), 50);
    assert.equal(sampleValue(samples, names[2]!, { outcome: 'other' }), 50);
  });

  it('ignores events it does not count', async () => {
    const { metrics, scrape } = endpoint();
    metrics.onEvent({ type: 'client.read', at: 0, clientId: 'x' });
    metrics.onEvent({ type: 'client.deleted', at: 0, clientId: 'x' });
    const counted = (await scrape()).filter((sample) => sample.name.endsWith('_total'));
    assert.deepEqual(counted, []);
  });
});

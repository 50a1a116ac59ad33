/**
 * Prometheus metrics of the reference server (DCR_METRICS_PORT): served on a listener of their
 * own, never on the public port, and not at all without the setting. Scraped with fetch as
 * Prometheus would, after real registrations and token requests.
 */
import assert from 'node:assert/strict';
import { Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  parseExposition,
  sampleSum,
  sampleValue,
  type Sample,
} from '../../../oauth-dcr/test/support/prometheus-text.js';
import { obtainTokens, registerClient, tokenRequest } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

const publicClient = {
  client_name: 'Metrics e2e client',
  redirect_uris: ['http://127.0.0.1:9/callback'],
  token_endpoint_auth_method: 'none',
};

/** Listening node:net servers in this process (the public one, the metrics one, any other). */
function listeningServers(): Server[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((handle): handle is Server => handle instanceof Server && handle.listening);
}

describe('metrics with DCR_METRICS_PORT', () => {
  let server: TestServer;
  let metricsUrl: string;
  const scrape = async (): Promise<Sample[]> => {
    const response = await fetch(`${metricsUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(await response.text());
  };

  before(async () => {
    server = await startTestServer({ store: 'memory', env: { DCR_METRICS_PORT: '0' } });
    const address = server.metrics.address();
    assert.ok(address, 'the metrics listener is bound');
    assert.equal(address.host, '127.0.0.1', 'DCR_METRICS_HOST defaults to loopback');
    assert.notEqual(address.port, server.port);
    metricsUrl = `http://127.0.0.1:${address.port}`;
  });
  after(() => server?.stop());

  it('counts registrations, refusals, token requests and latency per route', async () => {
    const client = await registerClient(server.url, publicClient);
    const refused = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://evil.example/cb'] }),
    });
    assert.equal(refused.status, 400);
    const { code, verifier, redirectUri } = await obtainTokens(server.url, client);
    // The same code again: RFC 6749 §4.1.2 says a code is used once.
    const reused = await tokenRequest(server.url, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_id: client.client_id,
    });
    assert.equal(reused.body.error, 'invalid_grant');
    const unsupported = await tokenRequest(server.url, { grant_type: 'x-attacker-chosen-grant-type' });
    assert.equal(unsupported.status, 400);

    const samples = await scrape();
    assert.equal(sampleValue(samples, 'oauth_dcr_registrations_total', { tier: 'anonymous', outcome: 'success' }), 1);
    assert.equal(sampleSum(samples, 'oauth_dcr_registrations_total', { outcome: 'invalid_redirect_uri' }), 1);
    assert.equal(sampleValue(samples, 'oauth_dcr_clients', { tier: 'anonymous' }), 1);

    const tokens = 'oauth_dcr_token_requests_total';
    assert.equal(sampleValue(samples, tokens, { grant_type: 'authorization_code', outcome: 'success' }), 1);
    assert.equal(sampleValue(samples, tokens, { grant_type: 'authorization_code', outcome: 'invalid_grant' }), 1);
    // A grant type the requester made up is not a label value of its own.
    assert.equal(sampleSum(samples, tokens, { outcome: 'unsupported_grant_type' }), 1);
    assert.ok(!samples.some((sample) => sample.labels.grant_type === 'x-attacker-chosen-grant-type'));

    const latency = 'oauth_dcr_http_request_duration_seconds_count';
    assert.equal(sampleValue(samples, latency, { route: 'register', status: '201' }), 1);
    assert.equal(sampleValue(samples, latency, { route: 'register', status: '400' }), 1);
    assert.equal(sampleSum(samples, latency, { route: 'token' }), 3);
    assert.ok(sampleSum(samples, latency, { route: 'authorize' }) >= 1);

    // Default process metrics.
    assert.ok(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total'));
    assert.ok(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds'));

    // Never a client_id in a label.
    assert.ok(!JSON.stringify(samples).includes(client.client_id));
  });

  it('serves only GET /metrics on the metrics port', async () => {
    const head = await fetch(`${metricsUrl}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const post = await fetch(`${metricsUrl}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal(((await post.json()) as { error: string }).error, 'invalid_request');
    for (const path of ['/', '/register', '/token', '/.well-known/oauth-authorization-server', '/metrics/x']) {
      const response = await fetch(`${metricsUrl}${path}`);
      assert.equal(response.status, 404, path);
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
    }
  });

  it('does not serve /metrics on the public port', async () => {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 404);
    assert.ok(!(await response.text()).includes('oauth_dcr_'));
  });
});

describe('metrics with rate limits on', () => {
  it('counts a limited address once, every 429 by route, and failed client authentication at /token', async () => {
    const server = await startTestServer({
      store: 'memory',
      env: { DCR_METRICS_PORT: '0', DCR_LIMIT_REGISTER_PER_ADDRESS: '2/1h' },
    });
    try {
      const confidential = await registerClient(server.url, {
        ...publicClient,
        token_endpoint_auth_method: 'client_secret_basic',
      });
      await registerClient(server.url, publicClient);
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${server.url}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(publicClient),
        });
        statuses.push(response.status);
      }
      assert.deepEqual(statuses, [429, 429, 429]);
      const wrongSecret = await tokenRequest(
        server.url,
        { grant_type: 'refresh_token', refresh_token: 'none-such' },
        { id: confidential.client_id, secret: 'not-the-secret' },
      );
      assert.equal(wrongSecret.status, 401);

      const response = await fetch(`http://127.0.0.1:${server.metrics.address()!.port}/metrics`);
      const samples = parseExposition(await response.text());
      assert.equal(sampleSum(samples, 'oauth_dcr_rate_limited_keys_total', { limit: 'address' }), 1);
      const latency = 'oauth_dcr_http_request_duration_seconds_count';
      assert.equal(sampleValue(samples, latency, { route: 'register', status: '429' }), 3);
      assert.equal(sampleValue(samples, latency, { route: 'register', status: '201' }), 2);
      assert.equal(sampleValue(samples, 'oauth_dcr_client_authentication_failures_total', { endpoint: 'token' }), 1);
      assert.equal(
        sampleValue(samples, 'oauth_dcr_token_requests_total', {
          grant_type: 'refresh_token',
          outcome: 'invalid_client',
        }),
        1,
      );
      assert.ok(!JSON.stringify(samples).includes(confidential.client_id));
    } finally {
      await server.stop();
    }
  });
});

describe('metrics without DCR_METRICS_PORT', () => {
  it('nothing listens but the public port, and the public port has no /metrics', async () => {
    const before = listeningServers().length;
    const server = await startTestServer({ store: 'memory' });
    try {
      assert.equal(server.metrics.address(), undefined);
      assert.equal(listeningServers().length, before + 1, 'only the public listener was added');
      await registerClient(server.url, publicClient);
      assert.equal((await fetch(`${server.url}/metrics`)).status, 404);
    } finally {
      await server.stop();
    }
  });

  it('a taken DCR_METRICS_PORT is refused in one line naming it', async () => {
    const taken = await startTestServer({ store: 'memory', env: { DCR_METRICS_PORT: '0' } });
    try {
      const port = String(taken.metrics.address()!.port);
      await assert.rejects(startTestServer({ store: 'memory', env: { DCR_METRICS_PORT: port } }), {
        name: 'ConfigError',
        message: `DCR_METRICS_PORT: 127.0.0.1:${port} is already in use`,
      });
    } finally {
      await taken.stop();
    }
  });
});

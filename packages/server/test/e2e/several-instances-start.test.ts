import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  holdAdvisoryLock,
  queryCluster,
  REFERENCE_MIGRATION_LOCK,
  startCluster,
  waitUntil,
  type Cluster,
  type HeldLock,
} from '../support/instances.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';

/**
 * Issue 11, "Several instances": a third instance started while two others serve load (a loop
 * of registrations and token requests through the one address). It migrates under the advisory
 * lock, and requests the proxy sends it while it does so wait for it rather than fail; then it
 * serves like the others, and nothing is lost: every client acknowledged with a 201 is read back
 * through RFC 7592 on every instance, and no answer during the whole start is a 5xx.
 *
 * To make "while it migrates" certain rather than a matter of timing, the test holds the
 * reference tables' migration lock (storage/reference-schema.ts) while the third instance
 * starts: it cannot finish starting until the lock is released, so it is seen waiting for it.
 */
const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
const redisUrl = requireService('DCR_TEST_REDIS_URL', process.env.DCR_TEST_REDIS_URL);

const LOAD_WORKERS = 4;

interface Acknowledged {
  client_id: string;
  client_secret: string;
  registration_access_token: string;
  registration_client_uri: string;
}

/** Registrations and client_credentials token requests in a loop, through the proxy. */
function startLoad(issuer: string) {
  const acknowledged: Acknowledged[] = [];
  const failures: string[] = [];
  let stopping = false;
  const worker = async (n: number) => {
    // Each failure is kept; many in a row mean the cluster is broken, not worth hammering.
    while (!stopping && failures.length < 50) {
      try {
        const registered = await fetch(`${issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            client_name: `Load ${n}`,
            redirect_uris: ['https://app.example/cb'],
            grant_types: ['client_credentials'],
            response_types: [],
            token_endpoint_auth_method: 'client_secret_basic',
          }),
        });
        const text = await registered.text();
        if (registered.status !== 201) {
          failures.push(`register: ${registered.status} ${text}`);
          continue;
        }
        const client = JSON.parse(text) as Acknowledged;
        acknowledged.push(client);
        const basic = Buffer.from(
          `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`,
        ).toString('base64');
        const token = await fetch(`${issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
          body: new URLSearchParams({ grant_type: 'client_credentials' }),
        });
        const tokenText = await token.text();
        if (token.status !== 200) failures.push(`token for ${client.client_id}: ${token.status} ${tokenText}`);
      } catch (error) {
        failures.push(`worker ${n}: ${String(error)}`);
      }
    }
  };
  const workers = Array.from({ length: LOAD_WORKERS }, (_, n) => worker(n));
  return {
    acknowledged,
    failures,
    async stop() {
      stopping = true;
      await Promise.all(workers);
    },
  };
}

describe('a third instance started under load', { skip: !postgresUrl || !redisUrl }, () => {
  let cluster: Cluster;

  before(
    async () => {
      cluster = await startCluster({
        postgresUrl: postgresUrl!,
        redisUrl: redisUrl!,
        // A and B start together on an empty schema: they race for the migrations.
        names: ['A', 'B'],
        env: {
          DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
          // The load comes from one address: its limit is not what this test is about.
          DCR_LIMIT_REGISTER_PER_ADDRESS: '1000000/1h',
        },
      });
    },
    { timeout: 120_000 },
  );
  after(() => cluster?.stop(), { timeout: 60_000 });

  it('migrates under the lock while requests wait for it, then serves; nothing acknowledged is lost, no 5xx', {
    timeout: 300_000,
  }, async (t) => {
    const { proxy } = cluster;
    const load = startLoad(cluster.issuer);
    let lock: HeldLock | undefined;
    try {
      await waitUntil('the load is under way', () => load.acknowledged.length >= 8 || load.failures.length > 0);
      assert.deepEqual(load.failures, [], 'A and B serve the load');

      lock = await holdAdvisoryLock(cluster.database.url, REFERENCE_MIGRATION_LOCK);
      const held = lock;
      const third = await cluster.startInstance('C');
      await third.bound;
      // In the rotation from the moment it accepts connections, as a balancer whose health check
      // is a TCP connect would put it: what it is sent while it migrates must wait, not fail.
      proxy.add(third);
      await waitUntil('the proxy sent C requests', () => (proxy.routed.get('C') ?? 0) >= 2);
      await waitUntil('an instance waits for the migration lock', async () => (await held.waiters()) > 0);
      assert.doesNotMatch(third.output(), /oauth-dcr listening on/, 'C cannot be ready while the lock is held');
      await held.release();
      await third.ready;

      const servedByC = () => proxy.served.filter((request) => request.instance === 'C' && request.status < 300);
      await waitUntil(
        'C served registrations and token requests',
        () =>
          load.failures.length > 0 ||
          (servedByC().filter((request) => request.path === '/register').length >= 5 &&
            servedByC().filter((request) => request.path === '/token').length >= 5),
      );
    } finally {
      await load.stop();
      await lock?.release();
    }

    assert.deepEqual(load.failures, [], 'every registration 201 and every token request 200, C starting or not');
    assert.deepEqual(
      proxy.served.filter((request) => request.status >= 500),
      [],
      'no 5xx',
    );

    // Every acknowledged client, read through RFC 7592 on each instance directly.
    const names = ['A', 'B', 'C'];
    const missing: string[] = [];
    const reads = load.acknowledged.flatMap((client) => names.map((name) => ({ client, name })));
    for (let i = 0; i < reads.length; i += 16) {
      await Promise.all(
        reads.slice(i, i + 16).map(async ({ client, name }) => {
          const path = new URL(client.registration_client_uri).pathname;
          const response = await fetch(`${cluster.instance(name).url}${path}`, {
            headers: { authorization: `Bearer ${client.registration_access_token}` },
          });
          const body = (await response.json()) as Record<string, unknown>;
          if (response.status !== 200 || body.client_id !== client.client_id)
            missing.push(`${client.client_id} on ${name}: ${response.status} ${JSON.stringify(body)}`);
        }),
      );
    }
    assert.ok(load.acknowledged.length > 0);
    const byInstance = names.map(
      (name) => `${name} ${proxy.served.filter((request) => request.instance === name).length}`,
    );
    t.diagnostic(`${load.acknowledged.length} clients acknowledged; requests served: ${byInstance.join(', ')}`);
    assert.deepEqual(missing, [], `all ${load.acknowledged.length} acknowledged clients readable on A, B and C`);

    const keys = await Promise.all(
      names.map(async (name) => (await fetch(`${cluster.instance(name).url}/jwks`)).json()),
    );
    assert.deepEqual(keys[1], keys[0], 'B publishes the signing keys A does');
    assert.deepEqual(keys[2], keys[0], 'C publishes the signing keys A does');

    // Three starts, two of them at once on an empty schema: each migration recorded once.
    for (const table of ['dcr_migrations', 'ref_migrations']) {
      const twice = await queryCluster(cluster, `select name from ${table} group by name having count(*) > 1`);
      assert.deepEqual(twice, [], `${table}: no migration applied twice`);
    }
  });
});

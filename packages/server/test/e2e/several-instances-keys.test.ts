import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { registerClient, tokenRequest } from '../support/oauth-flow.js';
import {
  holdAdvisoryLock,
  queryCluster,
  REFERENCE_MIGRATION_LOCK,
  SERVER_CLI,
  startCluster,
  waitUntil,
  type Cluster,
} from '../support/instances.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';

/**
 * Issue 11, "Several instances": the signing keys are shared. Two instances that start at the
 * same moment on a database with no signing key yet (a first deployment of two replicas) must
 * end up with one key set: a resource server fetches jwks_uri through the balancer, so from
 * either instance, and must be able to verify an access token that either one signed.
 *
 * "The same moment" is made likely rather than left to chance: the schema is migrated first
 * (`oauth-dcr-server migrate` makes no key), and the test holds the migration lock that every
 * start takes, so both instances wait at the same point and go on together once it is released,
 * straight to loading (or creating) the signing key.
 */
const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
const redisUrl = requireService('DCR_TEST_REDIS_URL', process.env.DCR_TEST_REDIS_URL);

describe('two instances starting together on a database without a signing key', {
  skip: !postgresUrl || !redisUrl,
}, () => {
  let cluster: Cluster;

  before(
    async () => {
      cluster = await startCluster({
        postgresUrl: postgresUrl!,
        redisUrl: redisUrl!,
        names: [],
        env: { DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials' },
      });
      const { stdout } = await promisify(execFile)(process.execPath, [...SERVER_CLI, 'migrate'], {
        env: { ...process.env, ...cluster.env, LOG_LEVEL: 'warn' },
      });
      assert.match(stdout, /applied migrations/);
      const lock = await holdAdvisoryLock(cluster.database.url, REFERENCE_MIGRATION_LOCK);
      try {
        const started = await Promise.all([cluster.startInstance('A'), cluster.startInstance('B')]);
        await Promise.all(started.map((instance) => instance.bound));
        await waitUntil('both instances wait for the migration lock', async () => (await lock.waiters()) >= 2);
      } finally {
        await lock.release();
      }
      for (const name of ['A', 'B']) {
        await cluster.instance(name).ready;
        cluster.proxy.add(cluster.instance(name));
      }
    },
    { timeout: 120_000 },
  );
  after(() => cluster?.stop(), { timeout: 60_000 });

  it("verifies an access token either instance signed with either instance's /jwks", { timeout: 60_000 }, async () => {
    const client = await registerClient(cluster.issuer, {
      client_name: 'Key check',
      redirect_uris: ['https://app.example/cb'],
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const basic = { id: client.client_id as string, secret: client.client_secret as string };
    const tokens: Array<{ signedBy: string; token: string }> = [];
    for (const name of ['A', 'B']) {
      // RFC 8707: a token for this server's own resource is an RFC 9068 JWT.
      const answer = await cluster.proxy.on(name, () =>
        tokenRequest(cluster.issuer, { grant_type: 'client_credentials', resource: cluster.issuer }, basic),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      tokens.push({ signedBy: name, token: answer.body.access_token as string });
    }
    const problems: string[] = [];
    const published = new Map<string, string[]>();
    for (const name of ['A', 'B']) {
      const jwks = (await (await fetch(`${cluster.instance(name).url}/jwks`)).json()) as JSONWebKeySet;
      published.set(name, jwks.keys.map((key) => String(key.kid)).sort());
      for (const { signedBy, token } of tokens) {
        try {
          await jwtVerify(token, createLocalJWKSet(jwks), { issuer: cluster.issuer, typ: 'at+jwt' });
        } catch (error) {
          problems.push(
            `${signedBy} signed with kid ${decodeProtectedHeader(token).kid}; ${name}'s /jwks has ${jwks.keys.map((key) => key.kid).join(', ')} (${(error as Error).message})`,
          );
        }
      }
    }
    assert.deepEqual(problems, []);
    // One key set: what either may sign with is published by both (RFC 7517 §5, jwks_uri).
    const stored = await queryCluster<{ kid: string }>(cluster, 'select kid from ref_signing_keys order by kid');
    assert.deepEqual(
      published.get('A'),
      published.get('B'),
      `A and B publish one key set (stored: ${stored.map((row) => row.kid).join(', ')})`,
    );
  });
});

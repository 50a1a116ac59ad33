/**
 * Secret renewal (`POST {registration_client_uri}/secret`) writes with compare-and-set: when the
 * client changed between the renewal's read and its write, the renewal fails and writes nothing.
 * Without it, the renewal would write back the record it read, undoing what landed in between:
 * a registration access token rotated by an RFC 7592 update (RFC 7592 §3: the old one must stop
 * working) would come back to life and the new one die; an update's metadata would be lost.
 *
 * The interleaving is made deterministic with real parts only: two server instances (two
 * Registrations, each with its own pool) over one PostgreSQL schema, as in a scale-out
 * deployment. Instance A's pool has a single connection. Right after A's renewal has read the
 * client, A asks for the time (the `now` option, called between read and write); at that moment
 * the test checks A's only connection out of the pool, so A's write queues behind it. Instance B
 * then runs the whole update, and the test gives the connection back: A's write lands last.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createRegistration, type Registration } from '../../src/index.js';
import { postgresStore, type PostgresClientStore } from '../../src/store/postgres.js';
import { requireService } from '../support/services.js';
import { BASE, bearer, register, send } from '../support/registration.js';

const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);

if (url) {
  describe('secret renewal racing an RFC 7592 update, across two instances on PostgreSQL', () => {
    const schema = `dcr_planted_${randomBytes(5).toString('hex')}`;
    const poolA = new pg.Pool({ connectionString: url, max: 1 });
    let storeA: PostgresClientStore;
    let storeB: PostgresClientStore;
    let instanceA: Registration;
    let rotatingB: Registration;
    let plainB: Registration;
    /** Set by a test: runs once, inside A's next call to `now`. */
    let onNextNow: (() => void) | undefined;

    before(async () => {
      storeA = postgresStore({ pool: poolA, schema });
      await storeA.ready;
      storeB = postgresStore({ connectionString: url, schema, max: 2 });
      await storeB.ready;
      instanceA = createRegistration({
        store: storeA,
        issuer: BASE,
        onError: () => {},
        now: () => {
          const hook = onNextNow;
          onNextNow = undefined;
          hook?.();
          return Math.floor(Date.now() / 1000);
        },
      });
      rotatingB = createRegistration({
        store: storeB,
        issuer: BASE,
        onError: () => {},
        rotateRegistrationAccessToken: true,
      });
      plainB = createRegistration({
        store: storeB,
        issuer: BASE,
        onError: () => {},
        rotateRegistrationAccessToken: false,
      });
    });

    after(async () => {
      await storeA?.close();
      await storeB?.close();
      await poolA.end();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    });

    const metadata = {
      client_name: 'Renewing Client',
      redirect_uris: ['https://app.example.com/cb'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    };

    /**
     * Runs A's renewal and, between its read and its write, B's `update` to completion. Resolves
     * both answers, after checking that the interleaving really happened.
     */
    async function renewAroundUpdate(
      client: Record<string, any>,
      update: () => Promise<{ status: number; body: Record<string, any>; text: string }>,
    ) {
      let held: Promise<pg.PoolClient> | undefined;
      onNextNow = () => {
        // Synchronous: this checkout is queued before the write A is about to send.
        held = poolA.connect();
      };
      let renewalSettled = false;
      const renewal = send(
        instanceA,
        'POST',
        `/register/${client.client_id}/secret`,
        undefined,
        bearer(client.registration_access_token),
      ).finally(() => {
        renewalSettled = true;
      });
      while (held === undefined) {
        if (renewalSettled) assert.fail(`the renewal answered before its write could be held: ${(await renewal).text}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const connection = await held;
      let updated: Awaited<ReturnType<typeof update>>;
      try {
        updated = await update();
        assert.equal(renewalSettled, false, 'the update must land while the renewal waits to write');
      } finally {
        connection.release();
      }
      return { renewed: await renewal, updated };
    }

    it('a registration access token rotated in between makes the renewal fail; the new token stays the only one', async () => {
      const created = await register(instanceA, metadata);
      assert.equal(created.status, 201, created.text);
      const oldToken: string = created.body.registration_access_token;

      const { renewed, updated } = await renewAroundUpdate(created.body, () =>
        send(
          rotatingB,
          'PUT',
          `/register/${created.body.client_id}`,
          { ...metadata, client_id: created.body.client_id },
          bearer(oldToken),
        ),
      );
      assert.equal(updated.status, 200, updated.text);
      const newToken: string = updated.body.registration_access_token;
      assert.ok(newToken && newToken !== oldToken, 'the update rotated the registration access token');

      // The renewal read a client whose token has since been rotated: RFC 6750 §3.1 invalid_token.
      assert.equal(renewed.status, 401, renewed.text);
      assert.equal(renewed.body.error, 'invalid_token');
      assert.equal(renewed.body.client_secret, undefined);

      const withNew = await send(instanceA, 'GET', `/register/${created.body.client_id}`, undefined, bearer(newToken));
      assert.equal(withNew.status, 200, `the rotated-in token must work: ${withNew.text}`);
      const withOld = await send(instanceA, 'GET', `/register/${created.body.client_id}`, undefined, bearer(oldToken));
      assert.equal(withOld.status, 401, 'the rotated-out token must stay dead');
    });

    it('metadata updated in between makes the renewal fail with 409; the update is kept', async () => {
      const created = await register(instanceA, metadata);
      assert.equal(created.status, 201, created.text);
      const token: string = created.body.registration_access_token;

      const { renewed, updated } = await renewAroundUpdate(created.body, () =>
        send(
          plainB,
          'PUT',
          `/register/${created.body.client_id}`,
          { ...metadata, client_id: created.body.client_id, client_name: 'Renamed In Between' },
          bearer(token),
        ),
      );
      assert.equal(updated.status, 200, updated.text);
      // The token still holds, the client changed: read it again and retry (manage.ts).
      assert.equal(renewed.status, 409, renewed.text);
      assert.equal(renewed.body.error, 'invalid_request');

      const read = await send(instanceA, 'GET', `/register/${created.body.client_id}`, undefined, bearer(token));
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.client_name, 'Renamed In Between', 'the update must not be undone by the renewal');

      // And the retry the 409 asks for succeeds.
      const retried = await send(
        instanceA,
        'POST',
        `/register/${created.body.client_id}/secret`,
        undefined,
        bearer(token),
      );
      assert.equal(retried.status, 200, retried.text);
      assert.equal(typeof retried.body.client_secret, 'string');
    });
  });
}

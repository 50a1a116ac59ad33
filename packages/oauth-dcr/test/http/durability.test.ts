import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ClientStore } from '../../src/index.js';
import { memoryStore } from '../../src/store/memory.js';
import { sqliteStore } from '../../src/store/sqlite.js';
import { postgresStore } from '../../src/store/postgres.js';
import { requireService } from '../support/services.js';
import { makeRegistration, register, send, mcpClient, bearer } from '../support/registration.js';

/**
 * "A 201 means committed", through the endpoint, on every store: concurrent registrations all
 * land and are readable afterwards (on SQLite, from a fresh connection), and bad input in
 * between loses nothing.
 */
interface StoreCase {
  name: string;
  open(): Promise<ClientStore>;
  reopen?(): Promise<ClientStore>;
  cleanup?(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-durability-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cases: StoreCase[] = [
  { name: 'memory', open: async () => memoryStore() },
  {
    name: 'SQLite',
    open: async () => sqliteStore(join(dir, 'clients.db')),
    reopen: async () => sqliteStore(join(dir, 'clients.db')),
  },
];

const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
if (postgresUrl) {
  const schema = `dcr_http_${randomBytes(4).toString('hex')}`;
  cases.push({
    name: 'PostgreSQL',
    open: async () => postgresStore({ connectionString: postgresUrl, schema }),
    reopen: async () => postgresStore({ connectionString: postgresUrl, schema }),
    cleanup: async () => {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  });
}

for (const storeCase of cases) {
  describe(`Durability and concurrency through the endpoint: ${storeCase.name}`, () => {
    it('fifty concurrent registrations give fifty distinct, readable clients', async () => {
      const store = await storeCase.open();
      const dcr = makeRegistration({ store });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => register(dcr, { ...mcpClient, client_name: `concurrent ${i}` })),
      );
      assert.ok(
        results.every((r) => r.status === 201),
        results.map((r) => r.status).join(','),
      );
      const ids = new Set(results.map((r) => r.body.client_id));
      assert.equal(ids.size, 50);

      // Bad input in between: nothing already stored is lost.
      assert.equal((await send(dcr, 'POST', '/register', '{"broken"')).status, 400);
      assert.equal((await send(dcr, 'POST', '/register', 'x'.repeat(70_000))).status, 413);

      const reader = storeCase.reopen ? await storeCase.reopen() : store;
      for (const result of results) {
        const found = await reader.findClient(result.body.client_id);
        assert.ok(found, `client ${result.body.client_id} must be readable`);
        assert.deepEqual(found.metadata.redirect_uris, mcpClient.redirect_uris);
      }
      if (reader !== store) await reader.close();
      await store.close();
    });

    it('an initial access token raced by many registrations is never over-used', async () => {
      const store = await storeCase.open();
      const dcr = makeRegistration({ store, openRegistration: false });
      const { token } = await dcr.initialAccessTokens.create({ uses: 5 });
      const results = await Promise.all(Array.from({ length: 30 }, () => register(dcr, mcpClient, bearer(token))));
      assert.equal(results.filter((r) => r.status === 201).length, 5);
      assert.equal(results.filter((r) => r.status === 401).length, 25);
      await store.close();
    });

    it('answers NUL in a client id like any unknown id (PostgreSQL text refuses it), and in metadata with 400', async () => {
      const store = await storeCase.open();
      try {
        const dcr = makeRegistration({ store, persistAuditEvents: true });
        // Metadata validation refuses control characters in the strings it knows (the store could
        // hold them: metadata is JSON text, see the store contract); either way, never a 500.
        const refused = await register(dcr, { ...mcpClient, client_name: 'a\u0000b' });
        assert.equal(refused.status, 400, refused.text);
        const reg = await register(dcr, mcpClient);
        assert.equal(reg.status, 201, reg.text);
        const path = new URL(reg.body.registration_client_uri).pathname;
        const token = reg.body.registration_access_token as string;

        for (const target of ['/register/%00', '/register/a%00b', `${path}%00`, `${path}%00/secret`]) {
          for (const method of ['GET', 'PUT', 'DELETE', 'POST']) {
            // The secret resource takes POST only; the client resource GET, PUT and DELETE.
            if ((method === 'POST') !== target.endsWith('/secret')) continue;
            const body = method === 'PUT' ? { ...mcpClient, client_id: 'a\u0000b' } : undefined;
            const res = await send(dcr, method, target, body, bearer(token));
            assert.equal(res.status, 401, `${method} ${target}: ${res.text}`);
            assert.equal(res.body.error, 'invalid_token');
          }
        }
        // The client itself is untouched.
        assert.equal((await send(dcr, 'GET', path, undefined, bearer(token))).status, 200);
      } finally {
        // close() waits for the audit appends still in flight (they are fire-and-forget).
        await store.close();
      }
      // The refusals are in the audit trail, the NUL kept visible as U+FFFD.
      const reader = storeCase.reopen ? await storeCase.reopen() : undefined;
      if (reader) {
        try {
          const rejected = (await reader.listAuditEvents({ clientId: 'a\u0000b', limit: 1000 })).filter(
            (event) => event.type === 'token.rejected',
          );
          assert.equal(rejected.length, 3, JSON.stringify(rejected));
          assert.ok(rejected.every((event) => event.clientId === 'a\ufffdb'));
        } finally {
          await reader.close();
        }
      }
    });

    if (storeCase.cleanup) after(() => storeCase.cleanup!());
  });
}

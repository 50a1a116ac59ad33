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
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
        register(dcr, { ...mcpClient, client_name: `concurrent ${i}` })));
      assert.ok(results.every((r) => r.status === 201), results.map((r) => r.status).join(','));
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

    if (storeCase.cleanup) after(() => storeCase.cleanup!());
  });
}

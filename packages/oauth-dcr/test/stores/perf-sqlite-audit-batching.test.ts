// Audit events on SQLite are deferred writes of the group commit: they ride with the next batch
// instead of paying a commit of their own. Deferred must never mean lost or late.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sqliteStore } from '../../src/store/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-audit-batching-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(dir, `store-${++files}.db`);
const T0 = 1_700_000_000;

describe('sqlite audit events as deferred writes', () => {
  it('writes an event appended just before close(), which waits for it', { timeout: 10_000 }, async () => {
    const path = newPath();
    const store = sqliteStore(path);
    await store.ready;
    // Not awaited: the way the registration endpoint appends (fire and forget).
    const appended = store.appendAuditEvent({ type: 'client.registered', at: T0, clientId: 'c1' });
    await store.close();
    await appended;
    const reopened = sqliteStore(path);
    try {
      const events = await reopened.listAuditEvents();
      assert.deepEqual(
        events.map((event) => [event.type, event.clientId]),
        [['client.registered', 'c1']],
      );
    } finally {
      await reopened.close();
    }
  });

  it('commits an event alone, soon, when no other write comes to carry it', { timeout: 10_000 }, async () => {
    const path = newPath();
    const store = sqliteStore(path);
    const reader = sqliteStore(path);
    try {
      await Promise.all([store.ready, reader.ready]);
      const started = performance.now();
      await store.appendAuditEvent({ type: 'client.deleted', at: T0, clientId: 'c2' });
      assert.ok(performance.now() - started < 1000, 'an audit event waits at most a moment for company');
      // Another connection sees it: committed, not just queued.
      assert.equal((await reader.listAuditEvents()).length, 1);
    } finally {
      await Promise.all([store.close(), reader.close()]);
    }
  });

  it('commits an event in the same batch as a client written in the same turn', { timeout: 10_000 }, async () => {
    const path = newPath();
    const store = sqliteStore(path);
    const reader = sqliteStore(path);
    try {
      await Promise.all([store.ready, reader.ready]);
      const event = store.appendAuditEvent({ type: 'client.registered', at: T0, clientId: 'c3' });
      await store.insertClient({
        clientId: 'c3',
        metadata: { redirect_uris: ['http://127.0.0.1/cb'] },
        clientIdIssuedAt: T0,
        clientSecretExpiresAt: 0,
        registeredVia: 'anonymous',
        createdAt: T0,
        updatedAt: T0,
      });
      // The client's commit carried the event: it is visible as soon as the client is.
      assert.equal((await reader.listAuditEvents()).length, 1);
      await event;
    } finally {
      await Promise.all([store.close(), reader.close()]);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '../../src/store/sqlite.js';
import { makeRegistration } from '../support/registration.js';
import { mcpClient, raw, registerFrom, watched } from './support.js';

function endpoint(clock = { now: 2_000_000 }) {
  const { dcr, events } = watched({
    rateLimits: false,
    deduplicatePublicClients: { window: 600 },
    now: () => clock.now,
  });
  return { dcr, events, clock };
}

const readWith = (dcr: ReturnType<typeof endpoint>['dcr'], uri: string, token: string) =>
  raw(dcr, {
    method: 'GET',
    path: new URL(uri).pathname,
    peer: '198.51.100.1',
    headers: { authorization: `Bearer ${token}` },
  });

describe('Re-registration de-duplication (opt-in, public clients)', () => {
  it('an identical registration from the same address reuses the client, with a new registration access token', async () => {
    const { dcr, events } = endpoint();
    const first = await registerFrom(dcr, '198.51.100.1');
    const again = await registerFrom(dcr, '198.51.100.1');
    assert.equal(again.status, 201);
    assert.equal(again.body.client_id, first.body.client_id);
    assert.equal(again.body.client_id_issued_at, first.body.client_id_issued_at);
    assert.deepEqual(again.body.redirect_uris, mcpClient.redirect_uris);
    assert.notEqual(again.body.registration_access_token, first.body.registration_access_token);
    // The old token is replaced, the new one works.
    assert.equal(
      (await readWith(dcr, first.body.registration_client_uri, first.body.registration_access_token)).status,
      401,
    );
    assert.equal(
      (await readWith(dcr, again.body.registration_client_uri, again.body.registration_access_token)).status,
      200,
    );
    assert.equal((await dcr.store.countClients()).total, 1);
    const registered = events.filter((e) => e.type === 'client.registered');
    assert.equal(registered.length, 2);
    assert.equal(registered[1]?.detail?.deduplicated, true);
    // The fingerprint is a digest: nothing of the request can be read back from it.
    const stored = await dcr.store.findClient(first.body.client_id);
    assert.match(String(stored?.registrationFingerprint), /^[A-Za-z0-9_-]{43}$/);
  });

  it('a different address, redirect URI, name or software_id gets a client of its own', async () => {
    const { dcr } = endpoint();
    const ids = new Set<string>();
    const bodies = [
      mcpClient,
      { ...mcpClient, redirect_uris: ['http://127.0.0.1:40000/callback'] },
      { ...mcpClient, client_name: 'Another client' },
      { ...mcpClient, software_id: 'acme' },
      { ...mcpClient, software_id: 'acme', client_name: 'renamed, same software' },
    ];
    for (const body of bodies) ids.add((await registerFrom(dcr, '198.51.100.1', body)).body.client_id);
    ids.add((await registerFrom(dcr, '198.51.100.2')).body.client_id);
    // The same software_id under another name is the same software.
    assert.equal(ids.size, 5);
  });

  it('outside the window a new client is made', async () => {
    const { dcr, clock } = endpoint();
    const first = await registerFrom(dcr, '198.51.100.1');
    clock.now += 601;
    const later = await registerFrom(dcr, '198.51.100.1');
    assert.notEqual(later.body.client_id, first.body.client_id);
  });

  it('never reuses a confidential client: its secret is shown once', async () => {
    const { dcr } = endpoint();
    const body = { ...mcpClient, token_endpoint_auth_method: 'client_secret_post' };
    const first = await registerFrom(dcr, '198.51.100.1', body);
    const again = await registerFrom(dcr, '198.51.100.1', body);
    assert.equal(again.status, 201);
    assert.notEqual(again.body.client_id, first.body.client_id);
    assert.equal(typeof again.body.client_secret, 'string');
  });

  it('never reuses a disabled client, nor one admitted by a token', async () => {
    const { dcr } = endpoint();
    const first = await registerFrom(dcr, '198.51.100.1');
    await dcr.store.setClientDisabled(first.body.client_id, dcr.now());
    assert.notEqual((await registerFrom(dcr, '198.51.100.1')).body.client_id, first.body.client_id);
    const { token } = await dcr.initialAccessTokens.create();
    const withToken = () =>
      raw(dcr, { peer: '198.51.100.3', body: mcpClient, headers: { authorization: `Bearer ${token}` } });
    assert.notEqual((await withToken()).body.client_id, (await withToken()).body.client_id);
  });

  it('works on SQLite: the fingerprint is stored and found, and caps count the stored clients', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-dedup-'));
    const store = sqliteStore(join(dir, 'clients.db'));
    try {
      const dcr = makeRegistration({
        store,
        rateLimits: false,
        deduplicatePublicClients: { window: 600 },
        registrationCaps: { total: 2 },
      });
      const first = await registerFrom(dcr, '198.51.100.1');
      assert.equal((await registerFrom(dcr, '198.51.100.1')).body.client_id, first.body.client_id);
      assert.equal((await registerFrom(dcr, '198.51.100.2')).status, 201);
      // At the cap, a new client is refused, and an identical re-registration still reuses its client.
      assert.equal((await registerFrom(dcr, '198.51.100.3')).status, 503);
      assert.equal((await registerFrom(dcr, '198.51.100.1')).body.client_id, first.body.client_id);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is off by default', async () => {
    const dcr = makeRegistration({ rateLimits: false });
    const first = await registerFrom(dcr, '198.51.100.1');
    assert.notEqual((await registerFrom(dcr, '198.51.100.1')).body.client_id, first.body.client_id);
    assert.equal((await dcr.store.findClient(first.body.client_id))?.registrationFingerprint, undefined);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent } from '../../src/index.js';
import { memoryStore } from '../../src/store/memory.js';
import { makeRegistration, register, send, bearer, mcpClient } from '../support/registration.js';

describe('Events and the persisted audit trail', () => {
  it('emits one event per outcome, persists all but reads, and never carries a secret', async () => {
    const store = memoryStore();
    const events: AuditEvent[] = [];
    const dcr = makeRegistration({ store, persistAuditEvents: true, onEvent: (event) => events.push(event) });

    const created = await register(dcr, { ...mcpClient, token_endpoint_auth_method: 'client_secret_post' });
    const path = new URL(created.body.registration_client_uri).pathname;
    const token = created.body.registration_access_token as string;
    await register(dcr, { redirect_uris: ['http://evil.example/cb'] });
    await send(dcr, 'GET', path, undefined, bearer(token));
    await send(dcr, 'GET', path, undefined, bearer('wrong-token'));
    const updated = await send(dcr, 'PUT', path, { ...mcpClient, client_id: created.body.client_id }, bearer(token));
    await send(dcr, 'DELETE', path, undefined, bearer(updated.body.registration_access_token));

    assert.deepEqual(
      events.map((e) => e.type),
      [
        'client.registered',
        'registration.rejected',
        'client.read',
        'token.rejected',
        'client.updated',
        'client.deleted',
      ],
    );
    assert.equal(events[0]!.clientId, created.body.client_id);
    assert.equal(events[1]!.detail?.error, 'invalid_redirect_uri');
    assert.ok(events.every((e) => Number.isInteger(e.at)));

    await new Promise((resolve) => setImmediate(resolve));
    const persisted = await store.listAuditEvents();
    assert.deepEqual(
      persisted.map((e) => e.type),
      ['client.registered', 'registration.rejected', 'token.rejected', 'client.updated', 'client.deleted'],
    );

    const everything = JSON.stringify([events, persisted]);
    for (const secret of [created.body.client_secret, token, updated.body.registration_access_token]) {
      assert.ok(!everything.includes(secret), 'no secret or token in any event');
    }
  });

  it('a throwing listener cannot fail a registration', async () => {
    const dcr = makeRegistration({
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    assert.equal((await register(dcr, mcpClient)).status, 201);
  });
});

/**
 * What an RFC 7592 update does to a client's secrets, read back from the store: an update never
 * rotates a secret (§2.2 leaves that to renewal), and a client that becomes public keeps no secret
 * at all, current or previous (RFC 7591 §3.2.1). Found unheld by mutation testing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistration, isAcceptedSecret } from 'oauth-dcr';
import { memoryStore } from 'oauth-dcr/memory';

const ISSUER = 'https://as.example.com';
const T0 = 1_800_000_000;

const confidential = {
  redirect_uris: ['https://app.example.com/cb'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};

function setUp() {
  const store = memoryStore();
  const dcr = createRegistration({
    store,
    issuer: ISSUER,
    onError: () => {},
    now: () => T0,
    secretRenewalOverlap: 3600,
  });
  async function call(method: string, path: string, body?: unknown, token?: string) {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await dcr(new Request(`${ISSUER}${path}`, init));
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }
  return { store, call };
}

describe('RFC 7592 update and the client secret', () => {
  it('an update of a confidential client keeps its secret', async () => {
    const { store, call } = setUp();
    const created = await call('POST', '/register', confidential);
    assert.equal(created.status, 201);
    const { client_id: id, client_secret: secret, registration_access_token: token } = created.body;
    const before = await store.findClient(id);

    const updated = await call(
      'PUT',
      `/register/${id}`,
      { ...confidential, client_id: id, client_name: 'Renamed' },
      token,
    );
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.client_secret, undefined, 'no new secret is issued by an update');

    const after = await store.findClient(id);
    assert.ok(before && after);
    assert.equal(after.clientSecretHash, before.clientSecretHash);
    assert.equal(isAcceptedSecret(after, secret, T0), true);
  });

  it('a client that becomes public keeps no secret, current or previous', async () => {
    const { store, call } = setUp();
    const created = await call('POST', '/register', confidential);
    const { client_id: id, client_secret: first, registration_access_token: token } = created.body;
    const renewed = await call('POST', `/register/${id}/secret`, undefined, token);
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    const second = renewed.body.client_secret as string;
    const during = await store.findClient(id);
    assert.ok(during);
    assert.equal(isAcceptedSecret(during, first, T0), true, 'the previous secret during the overlap');

    const publicClient = { ...confidential, client_id: id, token_endpoint_auth_method: 'none' };
    const updated = await call('PUT', `/register/${id}`, publicClient, token);
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.client_secret_expires_at ?? 0, 0);

    const after = await store.findClient(id);
    assert.ok(after);
    for (const key of ['clientSecretHash', 'previousSecretHash', 'previousSecretExpiresAt'] as const) {
      assert.equal(key in after, false, `${key} is gone`);
    }
    assert.equal(after.clientSecretExpiresAt, 0);
    assert.equal(isAcceptedSecret(after, first, T0), false, 'the previous secret no longer works');
    assert.equal(isAcceptedSecret(after, second, T0), false, 'the current secret no longer works');
  });
});

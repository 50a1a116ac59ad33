import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AuditEvent, createRegistration, type RegistrationOptions, verifySecret } from '../../src/index.js';
import { oauth2ServerClients } from '../../src/adapters/oauth2-server.js';
import { memoryStore } from '../../src/store/memory.js';
import { BASE, mcpClient, register } from '../support/registration.js';
import { eventually, storeKinds } from './stores.js';

/**
 * registration.operator: clients an operator creates, disables, enables and deletes (the CLI and
 * the reference server's admin page call it), on every store. Each action is an audit event with
 * the actor, and a disabled client resolves to nothing until it is enabled again.
 */
const serviceClient = {
  client_name: 'Resource server',
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
};

for (const kind of storeKinds()) {
  describe(`operator actions on the ${kind.name} store`, () => {
    async function setUp(options: Partial<RegistrationOptions> = {}) {
      const { store } = await kind.open();
      const events: AuditEvent[] = [];
      const registration = createRegistration({
        store,
        issuer: BASE,
        persistAuditEvents: true,
        onError: () => {},
        onEvent: (event) => events.push(event),
        tiers: { admin: { allowedGrantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] } },
        ...options,
      });
      return { store, events, registration };
    }

    it('creates a client in the admin tier with its rights, its secret shown once and no registration token', async () => {
      const { store, events, registration } = await setUp();
      const created = await registration.operator.create({
        metadata: serviceClient,
        rights: [
          'introspection= https://mcp.example/ | https://other.example/api ',
          'introspection=https://mcp.example/',
        ],
        actor: 'alice',
      });
      const { client, information } = created;
      assert.equal(client.registeredVia, 'admin');
      assert.equal(client.registeredBy, 'alice');
      assert.deepEqual(client.grantedRights, [
        'introspection=https://mcp.example/|https://other.example/api',
        'introspection=https://mcp.example/',
      ]);
      assert.equal(typeof information.client_secret, 'string');
      assert.equal(information.client_secret_expires_at, 0);
      assert.ok(verifySecret(information.client_secret as string, client.clientSecretHash));
      assert.equal(information.registration_access_token, undefined, 'managed by operators, not RFC 7592');
      assert.equal(information.registration_client_uri, undefined);
      assert.deepEqual(information.grant_types, ['client_credentials']);
      assert.equal(information.grantedRights, undefined, 'rights are never echoed as metadata');

      const stored = await store.findClient(client.clientId);
      assert.deepEqual(stored?.grantedRights, client.grantedRights);
      assert.equal((await registration.lookupClient(client.clientId)).kind, 'found');

      const registered = events.find((event) => event.type === 'client.registered');
      assert.equal(registered?.actor, 'alice');
      assert.equal(registered?.clientId, client.clientId);
      assert.deepEqual(registered?.detail, {
        via: 'admin',
        client_name: 'Resource server',
        rights: client.grantedRights,
      });
      await eventually(
        () => store.listAuditEvents({ clientId: client.clientId }),
        (trail) =>
          assert.deepEqual(
            trail.map((event) => [event.type, event.actor]),
            [['client.registered', 'alice']],
          ),
      );
    });

    it('holds the metadata to the same rules as a registration, and stores nothing it refuses', async () => {
      const { store, registration } = await setUp();
      const refusals: Array<[Record<string, unknown>, string[] | undefined, string]> = [
        [{ client_name: 'Web', redirect_uris: ['http://app.example/cb'] }, undefined, 'invalid_redirect_uri'],
        [{ ...mcpClient, grant_types: ['password'] }, undefined, 'invalid_client_metadata'],
        [mcpClient, ['superuser'], 'invalid_client_metadata'],
        [mcpClient, ['introspection=not a uri'], 'invalid_client_metadata'],
        [mcpClient, ['introspection=https://mcp.example/#fragment'], 'invalid_client_metadata'],
        [mcpClient, ['introspection='], 'invalid_client_metadata'],
      ];
      for (const [metadata, rights, code] of refusals) {
        await assert.rejects(
          registration.operator.create({ metadata, ...(rights ? { rights } : {}) }),
          (error: { code?: string }) => error.code === code,
          JSON.stringify([metadata, rights]),
        );
      }
      assert.deepEqual(await store.listClients(), []);
    });

    it('disables a client: it resolves to nothing until enabled; delete removes it; each is an event', async () => {
      const { store, events, registration } = await setUp();
      const registered = await register(registration, mcpClient);
      assert.equal(registered.status, 201);
      const clientId = registered.body.client_id as string;

      assert.equal(await registration.operator.disable(clientId, 'bob'), true);
      assert.deepEqual(await registration.lookupClient(clientId), { kind: 'unknown' });
      assert.equal(await registration.resolveClient(clientId), null);
      const disabled = await store.findClient(clientId);
      assert.equal(typeof disabled?.disabledAt, 'number', 'the record stays, marked disabled');
      assert.equal(await registration.operator.disable(clientId, 'bob'), true, 'disabling twice is no error');

      assert.equal(await registration.operator.enable(clientId, 'bob'), true);
      assert.equal((await registration.lookupClient(clientId)).kind, 'found');
      assert.equal((await store.findClient(clientId))?.disabledAt, undefined);

      assert.equal(await registration.operator.delete(clientId, 'bob'), true);
      assert.deepEqual(await registration.lookupClient(clientId), { kind: 'unknown' });
      assert.equal(await registration.operator.delete(clientId, 'bob'), false);
      for (const action of ['disable', 'enable', 'delete'] as const) {
        assert.equal(await registration.operator[action]('no-such-client'), false, action);
      }

      const operatorEvents = events
        .filter((event) => event.clientId === clientId && event.type !== 'client.registered')
        .map((event) => [event.type, event.actor]);
      assert.deepEqual(operatorEvents, [
        ['client.disabled', 'bob'],
        ['client.enabled', 'bob'],
        ['client.deleted', 'bob'],
      ]);
      await eventually(
        () => store.listAuditEvents({ clientId }),
        (trail) =>
          assert.deepEqual(
            trail.map((event) => event.type),
            ['client.registered', 'client.disabled', 'client.enabled', 'client.deleted'],
          ),
      );
    });
  });
}

describe('operator-created clients and the deployment', () => {
  it('a deployment that requires software statements still lets an operator create a client', async () => {
    const registration = createRegistration({
      store: memoryStore(),
      issuer: BASE,
      onError: () => {},
      softwareStatements: { issuers: [], required: true },
    });
    assert.equal((await register(registration, mcpClient)).body.error, 'invalid_software_statement');
    const { client, information } = await registration.operator.create({ metadata: mcpClient });
    assert.equal(client.registeredBy, 'operator', 'the default actor');
    assert.equal(information.client_secret, undefined, 'a public client gets no secret');
  });

  it("the host's hooks see the admin tier, and the admin tier's ceilings hold", async () => {
    const seen: string[] = [];
    const registration = createRegistration({
      store: memoryStore(),
      issuer: BASE,
      onError: () => {},
      validateMetadata: (_metadata, context) => {
        seen.push(`validate:${context.registeredVia}:${context.registeredBy}`);
      },
      createClient: (draft, context) => {
        seen.push(`create:${context.registeredVia}`);
        return { ...draft, clientId: `op-${draft.clientId}` };
      },
    });
    const { client } = await registration.operator.create({ metadata: mcpClient, actor: 'carol' });
    assert.match(client.clientId, /^op-/);
    assert.deepEqual(seen, ['validate:admin:carol', 'create:admin']);
    // Without tiers.admin, the deployment's grants are the ceiling: client_credentials is refused.
    await assert.rejects(registration.operator.create({ metadata: serviceClient }), {
      code: 'invalid_client_metadata',
    });
  });

  it('a host on @node-oauth/oauth2-server refuses a disabled client at /authorize and /token', async () => {
    const registration = createRegistration({ store: memoryStore(), issuer: BASE, onError: () => {} });
    const model = oauth2ServerClients(registration);
    const { client, information } = await registration.operator.create({
      metadata: { ...mcpClient, token_endpoint_auth_method: 'client_secret_post' },
    });
    const secret = information.client_secret as string;
    assert.ok(await model.getClient(client.clientId, null));
    assert.ok(await model.getClient(client.clientId, secret));
    await registration.operator.disable(client.clientId);
    assert.equal(await model.getClient(client.clientId, null), null, 'authorization: look-up only');
    assert.equal(await model.getClient(client.clientId, secret), null, 'token: even with the right secret');
    await registration.operator.enable(client.clientId);
    assert.ok(await model.getClient(client.clientId, secret));
  });
});

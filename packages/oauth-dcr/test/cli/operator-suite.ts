import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistration, hashSecret, verifySecret } from '../../src/index.js';
import type { ClientRecord, ClientStore } from '../../src/store/types.js';
import { assertOneLine, cli, cliOk, command } from './run-cli.js';

/** Where the suite's database is: the settings the CLI gets, and a way to open the store to check. */
export interface OperatorSuiteStorage {
  env: Record<string, string>;
  openStore(): Promise<ClientStore>;
}

const DAY = 86400;

/** Runs `work` on a store opened for it and closed after (so each check reads what the CLI wrote). */
async function withStore<T>(storage: OperatorSuiteStorage, work: (store: ClientStore) => Promise<T>): Promise<T> {
  const store = await storage.openStore();
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function oldClient(clientId: string, via: ClientRecord['registeredVia'], createdAt: number): ClientRecord {
  return {
    clientId,
    metadata: { client_name: clientId, redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' },
    clientIdIssuedAt: createdAt,
    clientSecretExpiresAt: 0,
    registeredVia: via,
    createdAt,
    updatedAt: createdAt,
  };
}

/**
 * The operator commands of `oauth-dcr` (clients show/create/disable/enable/delete, audit, prune)
 * against one database. Some cases start the CLI as a process (arguments as parsed, exit codes);
 * the rest run the same commands in this process, which saves a tsx start-up per command.
 */
export function operatorCommandSuite(
  name: string,
  setUp: () => Promise<OperatorSuiteStorage>,
  /** Commands started as processes here; the others run in this process (a tsx start-up costs seconds). */
  spawned: ReadonlySet<string>,
): void {
  describe(`oauth-dcr operator commands on ${name}`, () => {
    let storage: OperatorSuiteStorage;
    const run = (positionals: string[], flags: Parameters<typeof command>[1] = {}) =>
      command(positionals, flags, storage.env);

    it('clients create, show, disable, enable, delete and list', async () => {
      storage = await setUp();
      const created = await cliOk(
        [
          'clients',
          'create',
          '--name',
          'Resource server',
          '--grant-type',
          'client_credentials',
          '--auth-method',
          'client_secret_basic',
          '--right',
          'introspection=https://mcp.example/',
          '--json',
        ],
        storage.env,
      );
      const information = JSON.parse(created) as Record<string, unknown>;
      const clientId = information.client_id as string;
      const secret = information.client_secret as string;
      assert.deepEqual(information.rights, ['introspection=https://mcp.example/']);
      const stored = await withStore(storage, (store) => store.findClient(clientId));
      assert.equal(stored?.registeredVia, 'admin');
      assert.equal(stored?.registeredBy, 'cli:tester');
      assert.ok(verifySecret(secret, stored?.clientSecretHash));

      const shown = spawned.has('show')
        ? await cliOk(['clients', 'show', clientId], storage.env)
        : `${(await run(['clients', 'show', clientId])).lines.join('\n')}\n`;
      assert.match(shown, /^tier: admin$/m);
      assert.match(shown, /^registered_by: cli:tester$/m);
      assert.match(shown, /^rights: introspection=https:\/\/mcp\.example\/$/m);
      assert.match(shown, /^client_secret: issued, never expires$/m);
      assert.match(shown, /^disabled: no$/m);
      assert.ok(!shown.includes(secret) && !shown.includes(hashSecret(secret)), 'show prints no secret or hash');
      const shownJson = (await run(['clients', 'show', clientId], { json: true })).lines.join('\n');
      assert.doesNotMatch(shownJson, /Hash|hash/);

      assert.deepEqual((await run(['clients', 'disable', clientId])).lines, [`disabled ${clientId}`]);
      await withStore(storage, async (store) => {
        assert.equal(
          await createRegistration({ store }).resolveClient(clientId),
          null,
          'a disabled client resolves to nothing',
        );
      });
      const listed = (await run(['clients', 'list'])).lines;
      assert.match(listed[0]!, /^CLIENT ID\s+NAME\s+TIER\s+CREATED\s+LAST USED\s+DISABLED$/);
      assert.ok(
        listed.some((line) =>
          new RegExp(`^${clientId}\\s+Resource server\\s+admin\\s+\\S+\\s+never\\s+disabled$`).test(line),
        ),
        listed.join('\n'),
      );
      assert.deepEqual((await run(['clients', 'enable', clientId])).lines, [`enabled ${clientId}`]);
      await withStore(storage, async (store) => {
        assert.ok(await createRegistration({ store }).resolveClient(clientId));
      });

      if (spawned.has('delete'))
        assertOneLine(
          await cli(['clients', 'delete', 'no-such-client'], storage.env),
          1,
          /^oauth-dcr: no client with id no-such-client$/,
        );
      else
        assert.equal(
          (await run(['clients', 'delete', 'no-such-client'])).error?.message,
          'no client with id no-such-client',
        );
      assert.deepEqual((await run(['clients', 'delete', clientId])).lines, [`deleted ${clientId}`]);
      assert.equal(await withStore(storage, (store) => store.findClient(clientId)), null);
      for (const sub of ['show', 'disable', 'enable']) {
        assert.equal((await run(['clients', sub, clientId])).error?.name, 'CommandFailure', sub);
      }

      const publicClient = await run(['clients', 'create'], {
        name: 'Native app',
        'redirect-uri': ['http://127.0.0.1:8080/cb', 'com.example.app:/cb'],
        'auth-method': 'none',
      });
      assert.match(publicClient.lines[0]!, /^client_id: \S+$/);
      assert.ok(!publicClient.lines.some((line) => line.includes('client_secret')), 'a public client has no secret');

      const refused = await run(['clients', 'create'], { name: 'Web', 'redirect-uri': ['http://evil.example/cb'] });
      assert.equal(refused.error?.name, 'CommandFailure');
      assert.match(refused.error!.message, /^invalid_redirect_uri: /);
      assert.equal(
        (await run(['clients', 'create'], { 'redirect-uri': ['https://a.example/cb'] })).error?.name,
        'UsageError',
      );
      assert.equal(
        (await run(['clients', 'create'], { name: 'x', 'redirect-uri': ['https://a.example/cb'], right: ['root'] }))
          .error?.name,
        'CommandFailure',
      );
    });

    it('audit reads the persisted trail, filtered by client, type, time and count', async () => {
      storage ??= await setUp();
      const created = await run(['clients', 'create'], { name: 'Audited', 'redirect-uri': ['https://a.example/cb'] });
      const clientId = /^client_id: (\S+)$/.exec(created.lines[0]!)![1]!;
      await run(['clients', 'disable', clientId]);
      await run(['clients', 'enable', clientId]);
      await withStore(storage, (store) =>
        store.appendAuditEvent({ type: 'client.disabled', at: Math.floor(Date.now() / 1000) - 2 * DAY, clientId }),
      );

      const lines = spawned.has('audit')
        ? (await cliOk(['audit', '--client', clientId, '--json'], storage.env)).trimEnd().split('\n')
        : (await run(['audit'], { client: clientId, json: true })).lines;
      const events = lines.map((line) => JSON.parse(line) as { type: string; actor?: string; clientId: string });
      assert.deepEqual(
        events.map((event) => event.type),
        // In the order they were recorded: the back-dated event was appended last.
        ['client.registered', 'client.disabled', 'client.enabled', 'client.disabled'],
      );
      assert.ok(events.slice(0, 3).every((event) => event.actor === 'cli:tester' && event.clientId === clientId));

      const recent = await run(['audit'], { client: clientId, type: 'client.disabled', since: '24h' });
      assert.equal(recent.lines.length, 2, recent.lines.join('\n'));
      assert.match(recent.lines[0]!, /^TIME\s+TYPE\s+CLIENT\s+ACTOR\s+ADDRESS\s+DETAIL$/);
      assert.match(recent.lines[1]!, new RegExp(`client\\.disabled\\s+${clientId}\\s+cli:tester`));
      // The newest two as recorded, oldest first.
      const last = await run(['audit'], { client: clientId, limit: '2', json: true });
      assert.deepEqual(
        last.lines.map((line) => (JSON.parse(line) as { type: string }).type),
        ['client.enabled', 'client.disabled'],
      );
      assert.deepEqual((await run(['audit'], { client: 'nobody' })).lines, ['no audit events']);
      for (const flags of [{ type: 'client.exploded' }, { since: 'yesterday' }, { limit: '0' }]) {
        assert.equal((await run(['audit'], flags)).error?.name, 'UsageError', JSON.stringify(flags));
      }
    });

    it('prune --idle reaps idle clients (a dry run first), prune --audit deletes old events', async () => {
      storage ??= await setUp();
      const now = Math.floor(Date.now() / 1000);
      const idle = ['idle-1', 'idle-2', 'idle-3'];
      await withStore(storage, async (store) => {
        for (const id of idle) await store.insertClient(oldClient(id, 'anonymous', now - 2 * DAY));
        await store.insertClient(oldClient('in-use', 'anonymous', now - 2 * DAY));
        await store.insertClient(oldClient('token-admitted', 'initial_access_token', now - 2 * DAY));
        await store.recordClientUse('in-use', now);
        await store.appendAuditEvent({ type: 'registration.rejected', at: now - 100 * DAY });
        await store.appendAuditEvent({ type: 'registration.rejected', at: now - 95 * DAY });
      });

      const dry = spawned.has('prune')
        ? await cliOk(['prune', '--idle', '--dry-run'], storage.env)
        : `${(await run(['prune'], { idle: true, 'dry-run': true })).lines.join('\n')}\n`;
      assert.match(dry, /^anonymous: would delete 3$/m);
      assert.match(dry, /^first ids: (idle-\d ?){3}$/m);
      const remaining = async () =>
        (await withStore(storage, (store) => store.listClients({ limit: 1000 })))
          .map((client) => client.clientId)
          .filter((id) => idle.includes(id) || id === 'in-use' || id === 'token-admitted')
          .sort();
      assert.deepEqual(await remaining(), ['idle-1', 'idle-2', 'idle-3', 'in-use', 'token-admitted']);

      const real = await run(['prune'], { idle: true, batch: '2' });
      assert.deepEqual(real.lines, ['anonymous: deleted 3', 'total: deleted 3']);
      assert.deepEqual(await remaining(), ['in-use', 'token-admitted']);
      const reaped = (await run(['audit'], { type: 'client.reaped', json: true })).lines.map(
        (line) => JSON.parse(line) as { detail: { count: number } },
      );
      assert.deepEqual(reaped.map((event) => event.detail.count).sort(), [1, 2], 'one event per batch');

      const tier = await run(['prune'], { idle: true, 'never-used': 'initial_access_token=1h' });
      assert.ok(tier.lines.includes('initial_access_token: deleted 1'), tier.lines.join('\n'));
      assert.deepEqual(await remaining(), ['in-use']);
      assert.equal((await run(['prune'], { idle: true, 'never-used': 'anonymous=10m' })).error?.name, 'SettingError');
      assert.equal((await run(['prune'], { idle: true, unused: 'robots=1d' })).error?.name, 'SettingError');

      assert.deepEqual((await run(['prune'], { audit: true })).lines, ['audit events deleted: 2']);
      const none = await run(['prune']);
      assert.equal(none.error?.name, 'UsageError');
      assert.match(none.error!.message, /oauth-dcr-server prune/);
    });
  });
}

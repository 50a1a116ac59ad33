/**
 * The ClientStore contract for what operators and limits need of a client: the fields an operator
 * sets (disabledAt, grantedRights) or de-duplication keys on (registrationFingerprint),
 * setClientDisabled, countClients and findClientByFingerprint.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ContractContext,
  T0,
  fullClient,
  hash,
  minimalClient,
  randomId,
  withTwoInstances,
} from './contract-fixtures.js';

const isNulRefused = { name: 'TypeError', message: /U\+0000/ };

export function operatorFieldsContract(context: ContractContext): void {
  const { withStore, itWithSharedStorage } = context;

  describe('operator fields: disabledAt, registrationFingerprint, grantedRights', () => {
    it('stores all three on insert and reads them back, rights deep-frozen', () =>
      withStore(async (store) => {
        const record = fullClient({ disabledAt: T0 + 3, grantedRights: [] });
        await store.insertClient(record);
        assert.deepStrictEqual(await store.findClient(record.clientId), record);
        const rights = fullClient();
        await store.insertClient(rights);
        const found = (await store.findClient(rights.clientId))!;
        assert.deepStrictEqual(found.grantedRights, rights.grantedRights);
        assert.ok(Object.isFrozen(found.grantedRights));
        const listed = await store.listClients({ limit: 10 });
        assert.deepStrictEqual(
          listed.find((client) => client.clientId === record.clientId),
          record,
        );
      }));

    it('keeps grantedRights and the fingerprint through a replace derived from a read', () =>
      withStore(async (store) => {
        const record = fullClient();
        await store.insertClient(record);
        const read = (await store.findClient(record.clientId))!;
        const renamed = { ...read, metadata: { ...read.metadata, client_name: 'Renamed' }, updatedAt: T0 + 7 };
        assert.equal(await store.replaceClient(renamed, read), true);
        const found = (await store.findClient(record.clientId))!;
        assert.deepStrictEqual(found.grantedRights, record.grantedRights);
        assert.equal(found.registrationFingerprint, record.registrationFingerprint);
        assert.deepStrictEqual(found, { ...renamed, revision: 1 });
      }));

    it('keeps disabledAt as stored through a replace: only setClientDisabled moves it', () =>
      withStore(async (store) => {
        const disabled = minimalClient({ disabledAt: T0 + 1 });
        await store.insertClient(disabled);
        assert.equal(await store.replaceClient({ ...disabled, updatedAt: T0 + 2, disabledAt: undefined }), true);
        assert.equal((await store.findClient(disabled.clientId))!.disabledAt, T0 + 1);

        const enabled = minimalClient();
        await store.insertClient(enabled);
        const read = (await store.findClient(enabled.clientId))!;
        assert.equal(await store.replaceClient({ ...read, disabledAt: T0 + 9 }, read), true);
        assert.equal('disabledAt' in (await store.findClient(enabled.clientId))!, false);
      }));

    it('refuses NUL in a fingerprint (a plain text column) and finds nothing by one', () =>
      withStore(async (store) => {
        await assert.rejects(store.insertClient(minimalClient({ registrationFingerprint: 'f\u0000' })), isNulRefused);
        assert.deepEqual(await store.listClients(), []);
        await store.insertClient(minimalClient({ registrationFingerprint: 'f' }));
        assert.equal(await store.findClientByFingerprint('f\u0000', 0), null);
        assert.equal(await store.findClientByFingerprint('\u0000', 0), null);
      }));
  });

  describe('setClientDisabled', () => {
    it('disables and enables a client, keeping the rest of its record', () =>
      withStore(async (store) => {
        const record = fullClient();
        await store.insertClient(record);
        assert.equal(await store.setClientDisabled(record.clientId, T0 + 50), true);
        assert.deepStrictEqual(await store.findClient(record.clientId), {
          ...record,
          disabledAt: T0 + 50,
          revision: 1,
        });
        assert.equal(await store.setClientDisabled(record.clientId, null), true);
        const enabled = (await store.findClient(record.clientId))!;
        // Enabled again means no disabledAt at all, never null or undefined.
        assert.equal('disabledAt' in enabled, false);
        assert.deepStrictEqual(enabled, { ...record, revision: 2 });
      }));

    it('moves the revision, so an RFC 7592 change derived from an earlier read fails', () =>
      withStore(async (store) => {
        const record = fullClient();
        await store.insertClient(record);
        const read = (await store.findClient(record.clientId))!;
        assert.equal(await store.setClientDisabled(record.clientId, T0 + 50), true);
        const update = { ...read, metadata: { ...read.metadata, client_name: 'Sneaky' }, updatedAt: T0 + 60 };
        assert.equal(await store.replaceClient(update, read), false);
        const stored = (await store.findClient(record.clientId))!;
        assert.equal(stored.disabledAt, T0 + 50);
        assert.equal(stored.metadata.client_name, record.metadata.client_name);
        // Enabling moves it again: a change derived from the disabled read fails too.
        assert.equal(await store.setClientDisabled(record.clientId, null), true);
        assert.equal(await store.replaceClient(update, stored), false);
      }));

    it('keeps the last use recorded before and after disabling', () =>
      withStore(async (store) => {
        const record = minimalClient();
        await store.insertClient(record);
        await store.recordClientUse(record.clientId, T0 + 10);
        await store.setClientDisabled(record.clientId, T0 + 20);
        assert.equal((await store.findClient(record.clientId))!.lastUsedAt, T0 + 10);
        await store.recordClientUse(record.clientId, T0 + 30);
        const found = (await store.findClient(record.clientId))!;
        assert.equal(found.lastUsedAt, T0 + 30);
        assert.equal(found.disabledAt, T0 + 20);
      }));

    it('resolves false for an unknown client, or an id holding NUL', () =>
      withStore(async (store) => {
        assert.equal(await store.setClientDisabled('no-such-client', T0), false);
        assert.equal(await store.setClientDisabled('a\u0000b', null), false);
        await assert.rejects(store.setClientDisabled('no-such-client', T0 + 0.5), TypeError);
        await assert.rejects(store.findClientByFingerprint('f', Number.NaN), TypeError);
        assert.equal(await store.findClient('no-such-client'), null);
      }));

    itWithSharedStorage('shows another instance the change at once, even for a client it has read', () =>
      withTwoInstances(context, async (first, second) => {
        const record = fullClient();
        await first.insertClient(record);
        assert.equal((await second.findClient(record.clientId))!.disabledAt, undefined);
        assert.equal(await first.setClientDisabled(record.clientId, T0 + 5), true);
        assert.equal((await second.findClient(record.clientId))!.disabledAt, T0 + 5);
        assert.equal(await first.setClientDisabled(record.clientId, null), true);
        assert.equal('disabledAt' in (await second.findClient(record.clientId))!, false);
      }),
    );
  });

  describe('countClients', () => {
    it('counts every client, in all and per tier, disabled ones included', () =>
      withStore(async (store) => {
        assert.deepStrictEqual(await store.countClients(), { total: 0, byTier: {} });
        const anonymous = [minimalClient(), minimalClient(), minimalClient({ disabledAt: T0 })];
        const viaToken = [minimalClient({ registeredVia: 'initial_access_token' })];
        const admin = [minimalClient({ registeredVia: 'admin' }), minimalClient({ registeredVia: 'admin' })];
        for (const record of [...anonymous, ...viaToken, ...admin]) await store.insertClient(record);
        assert.deepStrictEqual(await store.countClients(), {
          total: 6,
          byTier: { anonymous: 3, initial_access_token: 1, admin: 2 },
        });
        await store.deleteClient(viaToken[0]!.clientId);
        await store.deleteClient(anonymous[0]!.clientId);
        await store.setClientDisabled(admin[0]!.clientId, T0);
        assert.deepStrictEqual(await store.countClients(), { total: 4, byTier: { anonymous: 2, admin: 2 } });
      }));

    it('follows a replace that changes the tier', () =>
      withStore(async (store) => {
        const record = minimalClient();
        await store.insertClient(record);
        assert.equal(await store.replaceClient({ ...record, registeredVia: 'software_statement' }), true);
        assert.deepStrictEqual(await store.countClients(), { total: 1, byTier: { software_statement: 1 } });
      }));
  });

  describe('findClientByFingerprint', () => {
    it('finds the newest client with the fingerprint created at or after the time given', () =>
      withStore(async (store) => {
        const fingerprint = hash();
        const older = minimalClient({ registrationFingerprint: fingerprint, createdAt: T0 });
        const newer = minimalClient({ registrationFingerprint: fingerprint, createdAt: T0 + 100 });
        const other = minimalClient({ registrationFingerprint: hash(), createdAt: T0 + 200 });
        const none = minimalClient({ createdAt: T0 + 300 });
        for (const record of [newer, older, other, none]) await store.insertClient(record);
        assert.deepStrictEqual(await store.findClientByFingerprint(fingerprint, T0), newer);
        assert.deepStrictEqual(await store.findClientByFingerprint(fingerprint, T0 + 100), newer);
        assert.equal(await store.findClientByFingerprint(fingerprint, T0 + 101), null);
        assert.equal(await store.findClientByFingerprint(hash(), 0), null);
        await store.deleteClient(newer.clientId);
        assert.deepStrictEqual(await store.findClientByFingerprint(fingerprint, 0), older);
      }));

    it('hands the client out as findClient does: frozen, with its latest use', () =>
      withStore(async (store) => {
        const record = fullClient({ clientId: randomId() });
        await store.insertClient(record);
        await store.recordClientUse(record.clientId, T0 + 40);
        const found = (await store.findClientByFingerprint(record.registrationFingerprint!, T0))!;
        assert.deepStrictEqual(found, { ...record, lastUsedAt: T0 + 40 });
        assert.ok(Object.isFrozen(found) && Object.isFrozen(found.metadata));
      }));
  });
}

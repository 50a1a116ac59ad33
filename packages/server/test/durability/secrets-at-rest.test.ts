import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireService } from '../../../oauth-dcr/test/support/services.js';
import { findSecrets, postgresDump, type RawSource, sqliteFiles } from './support/plaintext-search.js';
import { adminCommand, journeySettings, journeyUser, runSecretJourney } from './support/secret-journey.js';
import { postgresData, type ServerData, serverProcess, sqliteData } from './support/server-process.js';

/**
 * Secrets at rest: after a journey that issues every kind of secret the server has (see
 * secret-journey.ts), none of them may be readable in what the server leaves behind: the
 * SQLite file with its WAL and -shm, or a dump of the PostgreSQL schema; the server's log (pino
 * JSON at its most verbose level, trace, and its start banner); the persisted audit trail as
 * `oauth-dcr audit --json` prints it. Only hashes may be stored (RFC 7591 §3.2.1 and RFC 7592
 * §3 leave the storage to the server; RFC 6819 §5.1.4.1.3 asks for hashed credentials).
 */
async function journeyAtRest(
  data: ServerData,
): Promise<{ secrets: number; sightings: ReturnType<typeof findSecrets> }> {
  const user = journeyUser();
  const server = await serverProcess(data, journeySettings(user));
  try {
    await server.start();
    const journey = await runSecretJourney(server, data, user);
    const audit = await adminCommand(data, ['audit', '--json', '--limit', '10000']);
    const stored = data.sqlitePath ? await sqliteFiles(data.sqlitePath) : await postgresDump(data);
    const logs: RawSource = { name: 'server log', bytes: Buffer.from(server.output()) };
    const trail: RawSource = { name: 'audit trail', bytes: Buffer.from(audit) };
    // The search reads real bytes: a client_id, stored in the clear on purpose, is found in each.
    const clientId = Buffer.from(journey.storedInTheClear);
    assert.ok(
      Buffer.concat(stored.map((source) => source.bytes)).includes(clientId),
      'the client_id is in the database',
    );
    assert.ok(logs.bytes.includes(clientId), 'the client_id is in the log');
    assert.ok(trail.bytes.includes(clientId), 'the client_id is in the audit trail');
    return { secrets: journey.secrets.length, sightings: findSecrets([...stored, logs, trail], journey.secrets) };
  } finally {
    await server.kill();
    await data.remove();
  }
}

describe('secrets at rest on SQLite', () => {
  it('no issued secret, token, code, cookie or password is in the file, its WAL, the log or the audit trail', async (t) => {
    const { secrets, sightings } = await journeyAtRest(await sqliteData());
    t.diagnostic(`${secrets} issued secrets searched, ${sightings.length} found`);
    assert.deepEqual(sightings, []);
    assert.ok(secrets >= 30, `only ${secrets} secrets collected`);
  });
});

const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);

describe('secrets at rest on PostgreSQL', { skip: !postgresUrl }, () => {
  it('no issued secret, token, code, cookie or password is in a dump of the schema, the log or the audit trail', async (t) => {
    const { secrets, sightings } = await journeyAtRest(await postgresData(postgresUrl!));
    t.diagnostic(`${secrets} issued secrets searched, ${sightings.length} found`);
    assert.deepEqual(sightings, []);
    assert.ok(secrets >= 30, `only ${secrets} secrets collected`);
  });
});

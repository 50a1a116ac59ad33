import type { ClientStore } from 'oauth-dcr';
import { checkEveryClient, settleLostAnswers, type StoredClientLookup } from './crash-checks.js';
import { startLoad, type LoadTally, type TrackedClient } from './crash-load.js';
import type { ServerData, ServerProcess } from './server-process.js';

/**
 * Rounds of: load, SIGKILL at a random moment while updates and renewals are in flight, restart
 * on the same data, check everything acknowledged so far. The load never pauses for the kill.
 */

export interface CrashReport {
  /** Registrations answered 201 over every round, each checked after every later restart. */
  acknowledged: number;
  /** Acknowledged registrations that failed a check (the figure that must be 0). */
  lostClients: number;
  updates: number;
  renewals: number;
  lostAnswers: { update: number; renewal: number; registration: number };
  /** Lost answers whose operation had committed, and had not. */
  committed: number;
  notCommitted: number;
  failures: string[];
  unexpected: string[];
}

/** The library's own store on the same data (a second reader beside the server, as the admin CLI is). */
async function openClientStore(data: ServerData): Promise<ClientStore & { close(): Promise<void> }> {
  if (data.backend === 'sqlite') {
    const { sqliteStore } = await import('oauth-dcr/sqlite');
    const store = sqliteStore({ path: data.sqlitePath!, migrate: false });
    await store.ready;
    return store;
  }
  const { postgresStore } = await import('oauth-dcr/postgres');
  const store = postgresStore({ connectionString: data.postgres!.url, schema: data.postgres!.schema, migrate: false });
  await store.ready;
  return store;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function crashRounds(
  server: ServerProcess,
  data: ServerData,
  options: { rounds: number; concurrency: number; maxClients: number; minLoadMs: number; maxLoadMs: number },
): Promise<CrashReport> {
  const clients: TrackedClient[] = [];
  const report: CrashReport = {
    acknowledged: 0,
    lostClients: 0,
    updates: 0,
    renewals: 0,
    lostAnswers: { update: 0, renewal: 0, registration: 0 },
    committed: 0,
    notCommitted: 0,
    failures: [],
    unexpected: [],
  };
  const lostClients = new Set<string>();
  await server.start();
  for (let round = 1; round <= options.rounds; round++) {
    const load = startLoad(server.url, clients, options.concurrency, options.maxClients);
    await sleep(options.minLoadMs + Math.random() * (options.maxLoadMs - options.minLoadMs));
    // The kill lands while requests of every kind are on the wire; the workers send nothing
    // after it, so every lost answer belongs to a request the dying server had received.
    await load.whenInFlight(['update', 'renewal'], 2_000);
    const killed = server.kill();
    load.stop();
    await killed;
    const tally: LoadTally = await load.done;
    report.unexpected.push(...tally.unexpected.map((line) => `round ${round}: ${line}`));
    report.acknowledged += tally.registrations;
    report.updates += tally.updates;
    report.renewals += tally.renewals;
    report.lostAnswers.registration += tally.lostRegistrations;
    for (const lost of tally.lost) report.lostAnswers[lost.kind]++;

    await server.start();
    const store = await openClientStore(data);
    const findStored: StoredClientLookup = async (clientId) => {
      const record = await store.findClient(clientId);
      if (!record) return undefined;
      return {
        metadata: record.metadata as Record<string, unknown>,
        ...(record.registrationAccessTokenHash
          ? { registrationAccessTokenHash: record.registrationAccessTokenHash }
          : {}),
      };
    };
    let settled;
    try {
      settled = await settleLostAnswers(server.url, tally.lost, findStored);
    } finally {
      await store.close();
    }
    report.committed += settled.committed;
    report.notCommitted += settled.notCommitted;
    const failures = [...settled.failures, ...(await checkEveryClient(server.url, clients))];
    report.failures.push(...failures.map((line) => `round ${round}: ${line}`));
    for (const line of failures) lostClients.add(/[0-9a-f-]{36}/.exec(line)?.[0] ?? line);
    report.lostClients = lostClients.size;
  }
  return report;
}

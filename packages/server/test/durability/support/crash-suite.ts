import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { crashRounds } from './crash-rounds.js';
import { serverProcess, type ServerData } from './server-process.js';

/**
 * The crash test of one backend: registrations, RFC 7592 updates and secret renewals in flight,
 * the server killed at a random moment three times and restarted on the same data. Every
 * registration answered 201 must still read through RFC 7592 §2.1 with its token, show its last
 * acknowledged update, and authenticate at /token with its last acknowledged secret only. An
 * operation whose answer was lost left the client wholly old or wholly new (crash-checks.ts).
 */
export async function loseNothingAcrossKills(t: TestContext, data: ServerData): Promise<void> {
  const server = await serverProcess(data, {
    DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
  });
  try {
    const report = await crashRounds(server, data, {
      rounds: 3,
      concurrency: 24,
      maxClients: 100,
      minLoadMs: 300,
      maxLoadMs: 1000,
    });
    t.diagnostic(
      `acknowledged ${report.acknowledged} registrations, ${report.updates} updates, ${report.renewals} renewals; ` +
        `lost answers: ${JSON.stringify(report.lostAnswers)} (committed ${report.committed}, not ${report.notCommitted}); ` +
        `acknowledged clients lost: ${report.lostClients}`,
    );
    assert.deepEqual(report.failures, []);
    assert.equal(report.lostClients, 0);
    assert.deepEqual(report.unexpected, []);
    assert.ok(report.acknowledged > 0 && report.updates > 0 && report.renewals > 0, JSON.stringify(report));
    assert.ok(
      report.lostAnswers.update + report.lostAnswers.renewal > 0,
      'no update or renewal was in flight at a kill',
    );
  } finally {
    await server.kill();
    await data.remove();
  }
}

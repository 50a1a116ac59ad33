import { describe, it } from 'node:test';
import { requireService } from '../../../oauth-dcr/test/support/services.js';
import { loseNothingAcrossKills } from './support/crash-suite.js';
import { postgresData } from './support/server-process.js';

/**
 * kill -9 under load on PostgreSQL, restarted on the same schema (support/crash-suite.ts). A file
 * of its own, so that it runs beside the SQLite one.
 */
const postgresUrl = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);

describe('crash durability on PostgreSQL', { skip: !postgresUrl }, () => {
  it('loses no acknowledged registration, update or renewal across three SIGKILLs', async (t) =>
    loseNothingAcrossKills(t, await postgresData(postgresUrl!)));
});

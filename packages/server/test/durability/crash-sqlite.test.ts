import { describe, it } from 'node:test';
import { loseNothingAcrossKills } from './support/crash-suite.js';
import { sqliteData } from './support/server-process.js';

/** kill -9 under load on SQLite, restarted on the same file and its WAL (support/crash-suite.ts). */
describe('crash durability on SQLite', () => {
  it('loses no acknowledged registration, update or renewal across three SIGKILLs', async (t) =>
    loseNothingAcrossKills(t, await sqliteData()));
});

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { sqliteStore } from '../../src/store/sqlite.js';
import { operatorCommandSuite } from './operator-suite.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-operator-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

operatorCommandSuite(
  'SQLite',
  async () => {
    const path = join(dir, `${randomBytes(4).toString('hex')}.db`);
    // The database exists with oauth-dcr's tables, as after `oauth-dcr migrate`.
    await sqliteStore(path).close();
    return { env: { DATABASE_PATH: path }, openStore: async () => sqliteStore(path) };
  },
  new Set(['show', 'delete', 'prune']),
);

import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { postgresStore } from '../../src/store/postgres.js';
import { requireService } from '../support/services.js';
import { operatorCommandSuite } from './operator-suite.js';

const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
if (url) {
  const schema = `dcr_operator_cli_${randomBytes(4).toString('hex')}`;
  after(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.end();
    }
  });
  operatorCommandSuite(
    'PostgreSQL',
    async () => {
      const open = async () => {
        const store = postgresStore({ connectionString: url, schema, max: 2 });
        await store.ready;
        return store;
      };
      await (await open()).close();
      return { env: { DATABASE_URL: url, DATABASE_SCHEMA: schema }, openStore: open };
    },
    new Set(['audit']),
  );
}

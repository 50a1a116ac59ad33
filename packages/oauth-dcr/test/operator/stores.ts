import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { memoryStore } from '../../src/store/memory.js';
import { postgresStore } from '../../src/store/postgres.js';
import { sqliteStore } from '../../src/store/sqlite.js';
import type { ClientStore } from '../../src/store/types.js';
import { requireService } from '../support/services.js';

/** A store under test, and how to read its audit table as stored (for SQL stores). */
export interface StoreUnderTest {
  store: ClientStore;
  /** Every row of dcr_audit_events, as the database holds it; undefined for the memory store. */
  rawAuditRows?: () => Promise<string>;
  /** Every row of every dcr_* table as text: what a scan for leaked secrets reads. */
  rawTables?: () => Promise<string>;
}

export interface StoreKind {
  name: 'memory' | 'sqlite' | 'postgres';
  open(): Promise<StoreUnderTest>;
}

/**
 * The stores the operator suites run on: memory, SQLite (a temporary file) and PostgreSQL (a
 * schema of its own per store, dropped after the file), each opened fresh per test. PostgreSQL
 * is required on CI (requireService) and counted as skipped elsewhere.
 */
export function storeKinds(): StoreKind[] {
  const kinds: StoreKind[] = [{ name: 'memory', open: async () => ({ store: memoryStore() }) }];
  let dir: string | undefined;
  const opened: ClientStore[] = [];
  kinds.push({
    name: 'sqlite',
    async open() {
      dir ??= await mkdtemp(join(tmpdir(), 'oauth-dcr-operator-'));
      const path = join(dir, `${randomBytes(4).toString('hex')}.db`);
      const store = sqliteStore(path);
      opened.push(store);
      const dump = async (tables: string[]) => {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(path, { readonly: true });
        try {
          return tables.map((table) => JSON.stringify(db.prepare(`select * from ${table}`).all())).join('\n');
        } finally {
          db.close();
        }
      };
      const tableNames = async () => {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(path, { readonly: true });
        try {
          return db
            .prepare("select name from sqlite_master where type = 'table' and name like 'dcr_%'")
            .pluck()
            .all() as string[];
        } finally {
          db.close();
        }
      };
      return {
        store,
        rawAuditRows: () => dump(['dcr_audit_events']),
        rawTables: async () => dump(await tableNames()),
      };
    },
  });
  const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
  const schemas: string[] = [];
  const query = async (text: string): Promise<unknown[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  };
  if (url) {
    kinds.push({
      name: 'postgres',
      async open() {
        const schema = `dcr_operator_${randomBytes(5).toString('hex')}`;
        schemas.push(schema);
        const store = postgresStore({ connectionString: url, schema, max: 2 });
        opened.push(store);
        const dump = async (tables: string[]) =>
          (await Promise.all(tables.map((table) => query(`select * from "${schema}"."${table}"`))))
            .map((rows) => JSON.stringify(rows))
            .join('\n');
        return {
          store,
          rawAuditRows: () => dump(['dcr_audit_events']),
          rawTables: async () => {
            const rows = (await query(
              `select table_name from information_schema.tables where table_schema = '${schema}' and table_name like 'dcr\\_%'`,
            )) as Array<{ table_name: string }>;
            return dump(rows.map((row) => row.table_name));
          },
        };
      },
    });
  }
  after(async () => {
    await Promise.all(opened.map((store) => store.close().catch(() => undefined)));
    for (const schema of schemas) await query(`drop schema if exists "${schema}" cascade`);
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return kinds;
}

/** A clock a test moves: `createRegistration({ now: clock.now })`. */
export function testClock(start = 1_800_000_000): { now: () => number; advance(seconds: number): void } {
  let current = start;
  return {
    now: () => current,
    advance(seconds: number) {
      current += seconds;
    },
  };
}

/**
 * Audit events are persisted without holding up the request (fire-and-forget): polls the store
 * until `check` passes, or fails with its last error after 10 s.
 */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => void): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return value;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

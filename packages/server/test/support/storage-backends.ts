import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { StorageConfig } from '../../src/config.js';
import { openStorage, type ServerStorage } from '../../src/storage/open-storage.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';

/**
 * The reference server's storage on every backend a test should cover: memory, a temporary
 * SQLite file, and PostgreSQL (its own schema, dropped afterwards) when DCR_TEST_POSTGRES_URL is set.
 */
export interface StorageBackend {
  name: string;
  open(): Promise<ServerStorage>;
  /** Removes files and schemas created by open(); call after closing the storage. */
  cleanup(): Promise<void>;
}

export function storageBackends(): StorageBackend[] {
  const backends: StorageBackend[] = [backend('memory', async () => ({ kind: 'memory' }))];
  let dir: string | undefined;
  backends.push(
    backend(
      'sqlite',
      async () => {
        dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-storage-'));
        return { kind: 'sqlite', path: join(dir, 'test.db') };
      },
      async () => {
        if (dir) await rm(dir, { recursive: true, force: true });
      },
    ),
  );
  const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
  if (url) {
    const schema = `ref_test_${randomBytes(5).toString('hex')}`;
    backends.push(
      backend(
        'postgres',
        async () => ({ kind: 'postgres', url, schema }),
        async () => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            await client.query(`drop schema if exists "${schema}" cascade`);
          } finally {
            await client.end();
          }
        },
      ),
    );
  }
  return backends;
}

function backend(
  name: string,
  config: () => Promise<StorageConfig>,
  cleanup: () => Promise<void> = async () => {},
): StorageBackend {
  return { name, open: async () => openStorage(await config()), cleanup };
}

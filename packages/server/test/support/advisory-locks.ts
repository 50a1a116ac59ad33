import pg from 'pg';

/** PostgreSQL advisory locks as the servers take them, and polling, for the several-instances tests. */
/** The advisory lock every instance takes to migrate the reference server's tables (storage/reference-schema.ts). */
export const REFERENCE_MIGRATION_LOCK = 'oauth-dcr reference tables';

export interface HeldLock {
  /** How many other sessions wait for this lock now. */
  waiters(): Promise<number>;
  release(): Promise<void>;
}

/**
 * Takes a PostgreSQL advisory lock (as the servers do: pg_advisory_lock(hashtextextended(key, 0)))
 * on a connection of its own, and holds it until released.
 */
export async function holdAdvisoryLock(url: string, key: string): Promise<HeldLock> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key]);
  } catch (error) {
    await client.end();
    throw error;
  }
  let released: Promise<void> | undefined;
  return {
    async waiters() {
      const { rows } = await client.query<{ waiting: number }>(
        `select count(*)::int as waiting
           from pg_locks held join pg_locks waiting
             on waiting.locktype = 'advisory' and waiting.classid = held.classid
            and waiting.objid = held.objid and waiting.objsubid = held.objsubid
          where held.locktype = 'advisory' and held.pid = pg_backend_pid() and held.granted
            and not waiting.granted`,
      );
      return rows[0]!.waiting;
    },
    release: () =>
      (released ??= (async () => {
        try {
          await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]);
        } finally {
          await client.end();
        }
      })()),
  };
}

/** Polls `probe` until it is true; generous, since the machine is small and shared. */
export async function waitUntil(
  what: string,
  probe: () => boolean | Promise<boolean>,
  limitMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

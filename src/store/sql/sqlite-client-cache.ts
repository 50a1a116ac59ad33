import type BetterSqlite3 from 'better-sqlite3';
import type { ClientRecord } from '../types.js';

/**
 * Client records read through one SQLite connection, kept while the database is unchanged.
 *
 * Every RFC 7592 request and every token request looks its client up, and the lookup (a `select`
 * plus parsing the metadata JSON) costs several times what checking for changes does. Entries are
 * only trusted while two counters stand still:
 * - `PRAGMA data_version` moves when any other connection commits: another process (the CLI, a
 *   second server) or another connection in this one. SQLite documents it for this purpose.
 * - `total_changes()` moves when this connection writes, whoever writes through it: the store,
 *   the host's Kysely queries on `db`, or the raw handle.
 * If either has moved since the last check, every entry is dropped. A record read after a check
 * is only put if nothing was dropped in between (the generation), so an entry is never older than
 * the check that admits it.
 *
 * Records are deep-frozen, which is what makes handing one object to every reader safe.
 */
export class SqliteClientCache {
  readonly #dataVersion: BetterSqlite3.Statement<[], number>;
  readonly #totalChanges: BetterSqlite3.Statement<[], number>;
  readonly #records = new Map<string, ClientRecord>();
  readonly #maxEntries: number;
  #dataVersionSeen = -1;
  #totalChangesSeen = -1;
  #generation = 0;

  constructor(sqlite: BetterSqlite3.Database, maxEntries: number) {
    this.#dataVersion = sqlite.prepare<[], number>('PRAGMA data_version').pluck();
    this.#totalChanges = sqlite.prepare<[], number>('SELECT total_changes()').pluck();
    this.#maxEntries = maxEntries;
  }

  /** The cached record, after making sure the database has not changed since it was read. */
  get(clientId: string): ClientRecord | undefined {
    this.#validate();
    return this.#records.get(clientId);
  }

  /** Counts the times the cache was emptied. Take it after a get() that missed, before reading. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Caches a frozen record, read after a get() that reported `generation`. If the cache has been
   * emptied since, the database changed meanwhile and the record may be stale: it is not kept.
   */
  set(record: ClientRecord, generation: number): void {
    if (this.#maxEntries <= 0 || generation !== this.#generation) return;
    // Insertion order is age: the oldest entry goes first.
    if (this.#records.size >= this.#maxEntries) this.#records.delete(this.#records.keys().next().value!);
    this.#records.set(record.clientId, record);
  }

  #validate(): void {
    const dataVersion = this.#dataVersion.get()!;
    const totalChanges = this.#totalChanges.get()!;
    if (dataVersion !== this.#dataVersionSeen || totalChanges !== this.#totalChangesSeen) {
      this.#records.clear();
      this.#generation++;
      this.#dataVersionSeen = dataVersion;
      this.#totalChangesSeen = totalChanges;
    }
  }
}

import type BetterSqlite3 from 'better-sqlite3';
import type { ClientRecord } from '../types.js';

export interface SqliteClientCacheLimits {
  /** Records kept at most; 0 turns the cache off. */
  maxEntries: number;
  /** Characters of metadata JSON kept at most, over all records (client metadata is client-sized). */
  maxMetadataChars: number;
}

/**
 * Client records read through one SQLite connection, kept while no client has changed.
 *
 * Every RFC 7592 request and every token request looks its client up, and the lookup (a `select`
 * plus parsing the metadata JSON) costs several times what checking for changes does. Entries are
 * only trusted while `dcr_client_changes.version` stands still: triggers move it on every insert,
 * update and delete on dcr_clients, in the writer's own transaction, whatever the connection or
 * process (the CLI, a second server, the host's queries on `db`, the raw handle). Writes to other
 * tables (tokens, audit events) leave the cache alone. Reading the counter opens a read
 * transaction like any `select`, so a lookup always sees every commit made before it.
 *
 * If the version has moved since the last check, every entry is dropped. A record read after a
 * check is only put if nothing was dropped in between (the generation), so an entry is never older
 * than the check that admits it. Records are deep-frozen, which is what makes handing one object
 * to every reader safe.
 *
 * Not noticed: schema changes to dcr_clients made behind the store's back (dropping the table
 * drops its triggers too).
 */
export class SqliteClientCache {
  readonly #sqlite: BetterSqlite3.Database;
  readonly #limits: SqliteClientCacheLimits;
  readonly #records = new Map<string, { record: ClientRecord; chars: number }>();
  /**
   * Prepared on first use, once the store's migrations have run; null when the table is missing
   * (a store opened with `migrate: false` on an older schema), which leaves caching off until the
   * store is opened again.
   */
  #version: BetterSqlite3.Statement<[], number> | null | undefined;
  #versionSeen = -1;
  #chars = 0;
  #generation = 0;

  constructor(sqlite: BetterSqlite3.Database, limits: SqliteClientCacheLimits) {
    this.#sqlite = sqlite;
    this.#limits = limits;
  }

  /** False when caching is off, or the database lacks the change counter (migrations not run). */
  get enabled(): boolean {
    return this.#limits.maxEntries > 0 && this.#counter() !== null;
  }

  /** The cached record, after making sure no client has changed since it was read. */
  get(clientId: string): ClientRecord | undefined {
    this.#validate();
    const entry = this.#records.get(clientId);
    if (entry === undefined) return undefined;
    // Least recently used goes first: a hit moves the entry to the young end.
    this.#records.delete(clientId);
    this.#records.set(clientId, entry);
    return entry.record;
  }

  /** Counts the times the cache was emptied. Take it after a get() that missed, before reading. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Caches a frozen record whose metadata JSON is `chars` long, read after a get() that reported
   * `generation`. If the cache has been emptied since, a client changed meanwhile and the record
   * may be stale: it is not kept.
   */
  set(record: ClientRecord, chars: number, generation: number): void {
    if (generation !== this.#generation || chars > this.#limits.maxMetadataChars) return;
    this.#remove(record.clientId);
    while (
      this.#records.size > 0 &&
      (this.#records.size >= this.#limits.maxEntries || this.#chars + chars > this.#limits.maxMetadataChars)
    ) {
      this.#remove(this.#records.keys().next().value!);
    }
    this.#records.set(record.clientId, { record, chars });
    this.#chars += chars;
  }

  #remove(clientId: string): void {
    const entry = this.#records.get(clientId);
    if (entry === undefined) return;
    this.#records.delete(clientId);
    this.#chars -= entry.chars;
  }

  #validate(): void {
    const version = this.#counter()?.get();
    if (version !== this.#versionSeen) {
      this.#records.clear();
      this.#chars = 0;
      this.#generation++;
      this.#versionSeen = version ?? -1;
    }
  }

  #counter(): BetterSqlite3.Statement<[], number> | null {
    if (this.#version === undefined) {
      try {
        this.#version = this.#sqlite.prepare<[], number>('SELECT version FROM dcr_client_changes WHERE id = 1').pluck();
      } catch {
        this.#version = null;
      }
    }
    return this.#version;
  }
}

import type BetterSqlite3 from 'better-sqlite3';
import type { CompiledQuery, QueryResult } from 'kysely';
import type { SqliteStatements } from './sqlite-statements.js';

interface QueuedWrite {
  query: CompiledQuery;
  resolve(result: QueryResult<unknown>): void;
  reject(error: unknown): void;
}

/** How long a deferred write (an audit event) waits for a batch to ride with. */
const DEFERRED_WRITE_MAX_WAIT_MS = 50;

type Outcome = { ok: true; result: QueryResult<unknown> } | { ok: false; error: unknown };

/**
 * Group commit for SQLite. With `synchronous = FULL` every commit waits for an fsync, which caps
 * one-commit-per-write at the disk's fsync rate. Writes that arrive while the event loop is busy
 * are queued and committed together, in one transaction, on the next turn (setImmediate); each
 * caller's promise settles only after that commit, so a resolved write is still a durable one.
 *
 * Each queued write is one statement. A statement that fails inside the batch (a constraint) is
 * undone by SQLite on its own and the transaction goes on, so one bad row rejects only its caller.
 * If the transaction itself fails (BEGIN or COMMIT, or an error that rolls the transaction back),
 * every write is retried alone, in its own commit.
 */
export class SqliteGroupCommit {
  readonly #sqlite: BetterSqlite3.Database;
  readonly #statements: SqliteStatements;
  /** Runs work while no one else uses the connection (Kysely's connection mutex). */
  readonly #exclusive: <T>(work: () => T) => Promise<T>;
  readonly #enabled: boolean;
  readonly #begin: BetterSqlite3.Statement<[]>;
  readonly #commit: BetterSqlite3.Statement<[]>;
  readonly #rollback: BetterSqlite3.Statement<[]>;
  #queue: QueuedWrite[] = [];
  #scheduled = false;
  /** Starts a batch for deferred writes that nothing else came to carry. */
  #deferredTimer: ReturnType<typeof setTimeout> | undefined;
  /** Size of the last batch, and whether the pending flush already waited for more writes. */
  #lastBatchSize = 0;
  #waitedForMore = false;
  /** The latest commit started; the mutex runs commits in order, so this one finishes last. */
  #lastCommit: Promise<unknown> = Promise.resolve();

  constructor(options: {
    sqlite: BetterSqlite3.Database;
    statements: SqliteStatements;
    exclusive: <T>(work: () => T) => Promise<T>;
    /** false: one commit per write (for comparison). */
    enabled: boolean;
  }) {
    this.#sqlite = options.sqlite;
    this.#statements = options.statements;
    this.#exclusive = options.exclusive;
    this.#enabled = options.enabled;
    // IMMEDIATE takes the write lock at BEGIN, so another process' writer makes us wait
    // (busy_timeout) up front instead of failing mid-batch with SQLITE_BUSY.
    this.#begin = this.#sqlite.prepare('BEGIN IMMEDIATE');
    this.#commit = this.#sqlite.prepare('COMMIT');
    this.#rollback = this.#sqlite.prepare('ROLLBACK');
  }

  /**
   * Queues a write for the next batch. `deferred` writes (audit events, which no answer waits for)
   * do not start a batch of their own: they ride with the next one, or go alone after
   * DEFERRED_WRITE_MAX_WAIT_MS. Each audit event would otherwise cost its own commit and sync right
   * after the registration that caused it.
   */
  write<R>(query: CompiledQuery<R>, options: { deferred?: boolean } = {}): Promise<QueryResult<R>> {
    if (!this.#enabled) {
      const commit = this.#exclusive(() => this.#statements.run(query));
      this.#lastCommit = commit.catch(() => undefined);
      return commit;
    }
    return new Promise<QueryResult<R>>((resolve, reject) => {
      this.#queue.push({ query, resolve: resolve as QueuedWrite['resolve'], reject });
      if (!options.deferred) this.#schedule();
      else if (!this.#scheduled) this.#deferredTimer ??= setTimeout(this.#schedule, DEFERRED_WRITE_MAX_WAIT_MS);
    });
  }

  readonly #schedule = (): void => {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  };

  /** Resolves once every write queued so far is committed (or rejected). */
  async drain(): Promise<void> {
    while (this.#scheduled) await new Promise((resolve) => setImmediate(resolve));
    await this.#lastCommit;
  }

  readonly #flush = (): void => {
    // Under load, the writers of the last batch are still sending their next requests when this
    // turn comes. Waiting one more loop turn (once) lets them join instead of paying an fsync for
    // a half batch: in a 16-connection HTTP run that took batches from ~9 to ~15 writes. The cost
    // is one loop turn, and only when fewer writes are queued than last time.
    if (!this.#waitedForMore && this.#queue.length < this.#lastBatchSize) {
      this.#waitedForMore = true;
      setImmediate(this.#flush);
      return;
    }
    this.#waitedForMore = false;
    this.#scheduled = false;
    if (this.#deferredTimer !== undefined) {
      clearTimeout(this.#deferredTimer);
      this.#deferredTimer = undefined;
    }
    const batch = this.#queue;
    this.#queue = [];
    this.#lastBatchSize = batch.length;
    this.#lastCommit = this.#exclusive(() => this.#commitBatch(batch)).catch((error: unknown) => {
      for (const write of batch) write.reject(error);
    });
  };

  #commitBatch(batch: QueuedWrite[]): void {
    const outcomes = batch.length === 1 ? [this.#runAlone(batch[0]!)] : this.#runTogether(batch);
    outcomes.forEach((outcome, index) => {
      const write = batch[index]!;
      if (outcome.ok) write.resolve(outcome.result);
      else write.reject(outcome.error);
    });
  }

  #runTogether(batch: QueuedWrite[]): Outcome[] {
    const outcomes: Outcome[] = [];
    try {
      this.#begin.run();
      for (const write of batch) {
        try {
          outcomes.push({ ok: true, result: this.#statements.run(write.query) });
        } catch (error) {
          // Some errors (I/O, disk full) roll the whole transaction back: the batch is lost.
          if (!this.#sqlite.inTransaction) throw error;
          outcomes.push({ ok: false, error });
        }
      }
      this.#commit.run();
      return outcomes;
    } catch {
      try {
        if (this.#sqlite.inTransaction) this.#rollback.run();
      } catch {
        // The connection is in trouble; the retries below report the error to each caller.
      }
      return batch.map((write) => this.#runAlone(write));
    }
  }

  /** Autocommit: the statement is its own transaction. */
  #runAlone(write: QueuedWrite): Outcome {
    try {
      return { ok: true, result: this.#statements.run(write.query) };
    } catch (error) {
      return { ok: false, error };
    }
  }
}

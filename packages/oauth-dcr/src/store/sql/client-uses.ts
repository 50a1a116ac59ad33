/**
 * recordClientUse sits on the token endpoint's hot path, so the SQL stores do not write per call.
 * This keeps the latest use per client in memory and writes them in one go in the background.
 *
 * Visibility: a recorded use is visible at once to reads through the same store (they overlay
 * what is pending here), and reaches the database — hence other store instances — within one
 * flush interval, or when the store closes.
 */
export type ClientUseWriter = (uses: Array<[clientId: string, at: number]>) => Promise<void>;

export class ClientUseRecorder {
  readonly #write: ClientUseWriter;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  /** Uses recorded since the last flush began. */
  #pending = new Map<string, number>();
  /** Uses being written by the flush in progress: still not readable from the database. */
  #writing = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  /** Flushes run one after another; this is the last one started. */
  #flushes: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(write: ClientUseWriter, options: { intervalMs: number; onError: (error: unknown) => void }) {
    this.#write = write;
    this.#intervalMs = options.intervalMs;
    this.#onError = options.onError;
  }

  record(clientId: string, at: number): void {
    const known = this.#pending.get(clientId);
    if (known === undefined || at > known) this.#pending.set(clientId, at);
    this.#schedule();
  }

  /** The newest use not yet readable from the database, if any. */
  latest(clientId: string): number | undefined {
    const pending = this.#pending.get(clientId);
    const writing = this.#writing.get(clientId);
    if (pending === undefined) return writing;
    return writing === undefined || pending > writing ? pending : writing;
  }

  /**
   * Writes the uses recorded so far and resolves the clients used again while that write ran
   * (recorded, not yet readable from the database). Under a steady stream of token requests a few
   * arrive during each flush: up to `maxPending` are named, more are flushed again (twice at most).
   */
  async settle(maxPending: number): Promise<string[]> {
    let pending: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.flush();
      pending = [...new Set([...this.#pending.keys(), ...this.#writing.keys()])];
      if (pending.length <= maxPending) break;
    }
    return pending;
  }

  /** A deleted client's pending use must not reach a client later registered under its id. */
  forget(clientId: string): void {
    this.#pending.delete(clientId);
  }

  /** Writes everything recorded so far; rejects if that write fails (the uses are kept for a retry). */
  flush(): Promise<void> {
    const flush = this.#flushes.catch(() => undefined).then(() => this.#flushOnce());
    this.#flushes = flush;
    return flush;
  }

  /** Stops the background timer; close() then calls flush() once more itself. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch(this.#onError);
    }, this.#intervalMs);
    // A pending flush must not keep a process alive; close() flushes what is left.
    this.#timer.unref();
  }

  async #flushOnce(): Promise<void> {
    if (this.#pending.size === 0) return;
    const uses = this.#pending;
    this.#pending = new Map();
    this.#writing = uses;
    try {
      await this.#write([...uses]);
    } catch (error) {
      for (const [clientId, at] of uses) {
        const known = this.#pending.get(clientId);
        if (known === undefined || at > known) this.#pending.set(clientId, at);
      }
      this.#schedule();
      throw error;
    } finally {
      this.#writing = new Map();
    }
  }
}

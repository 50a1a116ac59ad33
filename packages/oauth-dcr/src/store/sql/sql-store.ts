import type { Compilable, CompiledQuery, Insertable, Kysely, QueryResult, Selectable } from 'kysely';
import { idleBounds } from '../idle-rule.js';
import type {
  AuditEvent,
  AuditEventQuery,
  ClientCounts,
  ClientRecord,
  ClientRevision,
  ClientStore,
  IdleClientQuery,
  InitialAccessTokenRecord,
  ListClientsOptions,
  StoredAuditEvent,
} from '../types.js';
import * as lifecycleQueries from './client-lifecycle-queries.js';
import * as operations from './sql-operations.js';
import { ClientUseRecorder } from './client-uses.js';
import { ClientExistsError, StoreClosedError } from '../errors.js';
import { deepFreeze } from '../frozen.js';
import { checkEpochSeconds } from '../epoch.js';
import { checkListLimit } from './list-limit.js';
import {
  checkStorableClient,
  checkStorableInitialAccessToken,
  isStorableText,
  storableAuditEvent,
  storableCursor,
} from '../text.js';
import * as queries from './queries.js';
import { auditEventToRow, clientToRow, initialAccessTokenToRow, rowToClient, rowToInitialAccessToken } from './rows.js';
import type { AuditEventsTable, ClientsTable, Database, SqlDialectName } from './schema.js';

/**
 * Before deciding which clients are idle, the store writes the uses it has recorded lazily (see
 * recordClientUse), and leaves out by id the clients used again while that write ran, up to this
 * many: a client used a moment ago is never reaped for want of a flush.
 */
const MAX_EXCLUDED_PENDING = 1000;

/** Options both SQL stores take. */
export interface SqlStoreOptions {
  /** Run the migrations when the store opens (default true). `oauth-dcr migrate` can do it instead. */
  migrate?: boolean;
  /** How often recorded client uses are written, in milliseconds (default 1000). */
  flushIntervalMs?: number;
  /** Failures of background work (client-use flushes, which are retried). Default: a process warning. */
  onError?: (error: unknown) => void;
}

/**
 * ClientStore over Kysely, shared by the SQLite and PostgreSQL stores. A dialect supplies how a
 * compiled query is read or written, how pending client uses are written, and how to let go of
 * its connection.
 */
export abstract class SqlClientStore implements ClientStore {
  /** Which database this store runs on. */
  abstract readonly dialect: SqlDialectName;
  /** The store's connection; the reference server adds its own tables through it. */
  readonly db: Kysely<Database>;
  /**
   * Settles once the schema is usable (migrations applied). Every method waits for it, so a store
   * is usable as soon as it is created; await it at start-up to fail fast on a bad database.
   */
  readonly ready: Promise<void>;
  readonly #uses: ClientUseRecorder;
  /** This store's queries, for the operations written outside the class (./sql-operations.ts). */
  readonly #runner: operations.SqlRunner;
  readonly #selectClient: (values: { clientId: string }) => CompiledQuery<Selectable<ClientsTable>>;
  readonly #insertClient: (row: Insertable<ClientsTable>) => CompiledQuery;
  readonly #insertAuditEvent: (row: Insertable<AuditEventsTable>) => CompiledQuery;
  /** Set once `ready` has settled successfully, so calls after start-up skip awaiting it. */
  #isReady = false;
  #closing: Promise<void> | undefined;
  /** Operations started before close(); close() waits for them before releasing the connection. */
  #active = 0;
  #onIdle: (() => void) | undefined;

  protected constructor(db: Kysely<Database>, ready: Promise<void>, options: SqlStoreOptions) {
    this.db = db;
    this.ready = ready;
    // Without a caller awaiting `ready`, a failed migration would be an unhandled rejection; the
    // error still reaches every method call.
    ready.then(
      () => (this.#isReady = true),
      () => undefined,
    );
    this.#selectClient = queries.compiledOnce(({ clientId }) => queries.selectClient(db, clientId));
    this.#insertClient = queries.compiledOnce((row) => queries.insertClient(db, row));
    this.#insertAuditEvent = queries.compiledOnce((row) => queries.insertAuditEvent(db, row));
    const store = this;
    this.#runner = {
      db,
      // A getter: `dialect` is a field of the subclass, set after this constructor returns.
      get dialect() {
        return store.dialect;
      },
      read: (query) => this.read(query),
      write: (query) => this.write(query),
    };
    const onError = options.onError ?? ((error: unknown) => process.emitWarning(toError(error)));
    this.#uses = new ClientUseRecorder(
      async (uses) => {
        await this.ready;
        await this.writeClientUses(uses);
      },
      { intervalMs: options.flushIntervalMs ?? 1000, onError },
    );
  }

  /** Runs a query that changes nothing. */
  protected abstract read<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
  /** Runs a single-statement write; resolves once it is committed. */
  protected abstract write<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
  /** Writes an audit event; a dialect may let it wait for other writes to share their commit. */
  protected writeAuditEvent(query: CompiledQuery): Promise<QueryResult<unknown>> {
    return this.write(query);
  }
  /** Writes coalesced client uses (see queries.touchClient / touchClients). */
  protected abstract writeClientUses(uses: Array<[clientId: string, at: number]>): Promise<void>;
  /** Lets go of the connection once every operation has finished. */
  protected abstract release(): Promise<void>;

  insertClient(record: ClientRecord): Promise<void> {
    return this.#run(async () => {
      checkStorableClient(record);
      const result = await this.write(this.#insertClient(clientToRow(record)));
      if (!changedRows(result)) throw new ClientExistsError(record.clientId);
    });
  }

  findClient(clientId: string): Promise<ClientRecord | null> {
    return this.#run(async () => {
      // No stored id holds NUL (../text.ts); PostgreSQL would refuse the query rather than miss.
      if (!isStorableText(clientId)) return null;
      const record = await this.lookupClient(clientId);
      return record && this.#withPendingUse(record);
    });
  }

  /** The stored client, deep-frozen. The SQLite store answers from its cache when it can. */
  protected async lookupClient(clientId: string): Promise<ClientRecord | null> {
    return (await this.readClient(clientId))?.record ?? null;
  }

  /** The stored client, deep-frozen, and the length of its metadata JSON (what keeping it costs). */
  protected async readClient(clientId: string): Promise<{ record: ClientRecord; metadataChars: number } | null> {
    const { rows } = await this.read(this.#selectClient({ clientId }));
    const row = rows[0];
    return row ? { record: deepFreeze(rowToClient(row)), metadataChars: row.metadata.length } : null;
  }

  replaceClient(record: ClientRecord, expected?: ClientRevision): Promise<boolean> {
    const expectation =
      expected === undefined
        ? undefined
        : {
            revision: expected.revision ?? 0,
            registrationAccessTokenHash: expected.registrationAccessTokenHash ?? null,
          };
    return this.#run(async () => {
      if (!isStorableText(record.clientId)) return false;
      if (expectation?.registrationAccessTokenHash != null && !isStorableText(expectation.registrationAccessTokenHash))
        return false;
      checkStorableClient(record);
      return changedRows(await this.write(queries.updateClient(this.db, clientToRow(record), expectation)));
    });
  }

  deleteClient(clientId: string): Promise<boolean> {
    return this.#run(async () => {
      if (!isStorableText(clientId)) return false;
      this.#uses.forget(clientId);
      return changedRows(await this.write(queries.deleteClient(this.db, clientId)));
    });
  }

  async recordClientUse(clientId: string, at: number): Promise<void> {
    if (this.#closing) throw new StoreClosedError();
    // A use of an unknown client is dropped, and no stored id holds NUL. Kept out of the buffer,
    // it would fail every batched flush on PostgreSQL (the whole statement is refused).
    if (!isStorableText(clientId)) return;
    this.#uses.record(clientId, at);
  }

  /**
   * Runs one write statement of the caller's (e.g. the reference server's token tables, built on
   * `db`) the way this store runs its own: on SQLite it joins the group commit, so it shares an
   * fsync with concurrent writes. Resolves once committed.
   */
  executeWrite<R>(query: Compilable<R> | CompiledQuery<R>): Promise<QueryResult<R>> {
    return this.#run(() => this.write('compile' in query ? query.compile() : query));
  }

  /** Writes recorded client uses now instead of at the next interval. */
  flushClientUses(): Promise<void> {
    return this.#run(() => this.#uses.flush());
  }

  listClients(options: ListClientsOptions = {}): Promise<ClientRecord[]> {
    return this.#run(async () => {
      const limit = checkListLimit(options.limit);
      const after = options.after === undefined ? undefined : storableCursor(options.after);
      const { rows } = await this.read(queries.selectClients(this.db, { limit, after }));
      return rows.map((row) => this.#withPendingUse(deepFreeze(rowToClient(row))));
    });
  }

  insertInitialAccessToken(record: InitialAccessTokenRecord): Promise<void> {
    return this.#run(async () => {
      checkStorableInitialAccessToken(record);
      await this.write(queries.insertInitialAccessToken(this.db, initialAccessTokenToRow(record)));
    });
  }

  consumeInitialAccessToken(tokenHash: string, now: number): Promise<InitialAccessTokenRecord | null> {
    return this.#run(async () => {
      if (!isStorableText(tokenHash)) return null;
      const { rows } = await this.write(queries.consumeInitialAccessToken(this.db, tokenHash, now));
      return rows[0] ? deepFreeze(rowToInitialAccessToken(rows[0])) : null;
    });
  }

  listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]> {
    return this.#run(async () => {
      const { rows } = await this.read(queries.selectInitialAccessTokens(this.db));
      return rows.map((row) => deepFreeze(rowToInitialAccessToken(row)));
    });
  }

  revokeInitialAccessToken(id: string, at: number): Promise<boolean> {
    return this.#run(async () => {
      if (!isStorableText(id)) return false;
      return changedRows(await this.write(queries.revokeInitialAccessToken(this.db, id, at)));
    });
  }

  appendAuditEvent(event: AuditEvent): Promise<void> {
    return this.#run(async () => {
      await this.writeAuditEvent(this.#insertAuditEvent(auditEventToRow(storableAuditEvent(event))));
    });
  }

  /** The newest `limit` (default 100) matching events, oldest first (insertion order). */
  listAuditEvents(options: AuditEventQuery = {}): Promise<StoredAuditEvent[]> {
    return this.#run(() => operations.listAuditEvents(this.#runner, options));
  }

  deleteAuditEventsBefore(before: number, limit: number): Promise<number> {
    return this.#run(() => operations.deleteAuditEventsBefore(this.#runner, before, limit));
  }

  countClients(): Promise<ClientCounts> {
    return this.#run(() => operations.countClients(this.#runner));
  }

  setClientDisabled(clientId: string, at: number | null): Promise<boolean> {
    return this.#run(async () => {
      checkEpochSeconds('at', at);
      if (!isStorableText(clientId)) return false;
      return changedRows(await this.write(lifecycleQueries.setClientDisabled(this.db, clientId, at)));
    });
  }

  findClientByFingerprint(fingerprint: string, createdSince: number): Promise<ClientRecord | null> {
    return this.#run(async () => {
      checkEpochSeconds('createdSince', createdSince);
      if (!isStorableText(fingerprint)) return null;
      const { rows } = await this.read(lifecycleQueries.selectClientByFingerprint(this.db, fingerprint, createdSince));
      return rows[0] ? this.#withPendingUse(deepFreeze(rowToClient(rows[0]))) : null;
    });
  }

  findIdleClients(query: IdleClientQuery): Promise<ClientRecord[]> {
    return this.#run(async () => {
      const bounds = idleBounds(query);
      if (!bounds) return [];
      const keep = await this.#uses.settle(MAX_EXCLUDED_PENDING);
      const { rows } = await this.read(lifecycleQueries.selectIdleClients(this.db, bounds, keep));
      return rows.map((row) => deepFreeze(rowToClient(row)));
    });
  }

  deleteIdleClients(query: IdleClientQuery): Promise<string[]> {
    return this.#run(async () => {
      const bounds = idleBounds(query);
      if (!bounds) return [];
      const keep = await this.#uses.settle(MAX_EXCLUDED_PENDING);
      const { rows } = await this.write(lifecycleQueries.deleteIdleClients(this.db, this.dialect, bounds, keep));
      const deleted = rows.map((row) => row.client_id);
      for (const clientId of deleted) this.#uses.forget(clientId);
      return deleted;
    });
  }

  /**
   * Refuses new calls, waits for those in flight, writes pending client uses, then releases the
   * connection. Rejects if those last uses could not be written.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#uses.stop();
    if (this.#active > 0) await new Promise<void>((resolve) => (this.#onIdle = resolve));
    let failure: unknown;
    const opened = await this.ready.then(
      () => true,
      () => false,
    );
    if (opened) await this.#uses.flush().catch((error: unknown) => (failure = error));
    await this.release();
    if (failure !== undefined) throw failure;
  }

  async #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closing) throw new StoreClosedError();
    this.#active++;
    try {
      if (!this.#isReady) await this.ready;
      return await operation();
    } finally {
      if (--this.#active === 0) this.#onIdle?.();
    }
  }

  /** Reads through this store see its own recorded uses before they are flushed. */
  #withPendingUse(record: ClientRecord): ClientRecord {
    const at = this.#uses.latest(record.clientId);
    if (at === undefined || (record.lastUsedAt !== undefined && at <= record.lastUsedAt)) return record;
    return Object.freeze({ ...record, lastUsedAt: at });
  }
}

function changedRows(result: QueryResult<unknown>): boolean {
  return result.numAffectedRows !== undefined && result.numAffectedRows > 0n;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

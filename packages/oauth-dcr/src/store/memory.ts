import { ClientExistsError, StoreClosedError } from './errors.js';
import { frozenCopy } from './frozen.js';
import { checkListLimit } from './sql/list-limit.js';
import { auditText, checkStorableClient, checkStorableInitialAccessToken, storableAuditEvent } from './text.js';
import type {
  AuditEvent,
  ClientRecord,
  ClientRevision,
  ClientStore,
  InitialAccessTokenRecord,
  ListClientsOptions,
  StoredAuditEvent,
} from './types.js';

export { ClientExistsError, StoreClosedError } from './errors.js';

/** Audit events the memory store keeps at least (the newest); older ones are dropped in batches. */
export const MAX_MEMORY_AUDIT_EVENTS = 10_000;
/** How far past the limit the trail may grow before the oldest events are dropped at once. */
const AUDIT_TRIM_BATCH = 2_500;

/**
 * ClientStore in process memory, for tests and benchmarks. Nothing survives the process.
 *
 * It keeps the same rules as the SQL stores so the contract suite holds for all of them: records
 * are copied in and handed out frozen, each method body runs without an await (so a consume is
 * atomic), client ids list in code point order, and lastUsedAt only moves forward through
 * recordClientUse.
 */
export class MemoryClientStore implements ClientStore {
  readonly #clients = new Map<string, ClientRecord>();
  readonly #tokens = new Map<string, InitialAccessTokenRecord>();
  readonly #tokenIdsByHash = new Map<string, string>();
  readonly #auditEvents: StoredAuditEvent[] = [];
  #nextAuditId = 1;
  #closed = false;

  async insertClient(record: ClientRecord): Promise<void> {
    this.#checkOpen();
    // As the SQL stores must (PostgreSQL text cannot hold NUL), see ./text.ts.
    checkStorableClient(record);
    if (this.#clients.has(record.clientId)) throw new ClientExistsError(record.clientId);
    // A new client is at revision 0, which is stored as absent.
    this.#clients.set(record.clientId, frozenCopy({ ...record, revision: undefined }));
  }

  async findClient(clientId: string): Promise<ClientRecord | null> {
    this.#checkOpen();
    // Stored records are frozen, so the stored one itself is handed out.
    return this.#clients.get(clientId) ?? null;
  }

  async replaceClient(record: ClientRecord, expected?: ClientRevision): Promise<boolean> {
    this.#checkOpen();
    const stored = this.#clients.get(record.clientId);
    if (!stored) return false;
    checkStorableClient(record);
    const revision = stored.revision ?? 0;
    if (
      expected !== undefined &&
      (revision !== (expected.revision ?? 0) ||
        stored.registrationAccessTokenHash !== expected.registrationAccessTokenHash)
    ) {
      return false;
    }
    // As in the SQL stores: lastUsedAt belongs to recordClientUse, a replace never moves it, and
    // the revision is the store's to count.
    this.#clients.set(
      record.clientId,
      frozenCopy({ ...record, lastUsedAt: stored.lastUsedAt, revision: revision + 1 }),
    );
    return true;
  }

  async deleteClient(clientId: string): Promise<boolean> {
    this.#checkOpen();
    return this.#clients.delete(clientId);
  }

  async recordClientUse(clientId: string, at: number): Promise<void> {
    this.#checkOpen();
    const stored = this.#clients.get(clientId);
    if (stored && (stored.lastUsedAt === undefined || at > stored.lastUsedAt)) {
      this.#clients.set(clientId, Object.freeze({ ...stored, lastUsedAt: at }));
    }
  }

  async listClients(options: ListClientsOptions = {}): Promise<ClientRecord[]> {
    this.#checkOpen();
    const limit = checkListLimit(options.limit);
    const after = options.after;
    const ids = [...this.#clients.keys()]
      .filter((id) => after === undefined || compareCodePoints(id, after) > 0)
      .sort(compareCodePoints)
      .slice(0, limit);
    return ids.map((id) => this.#clients.get(id)!);
  }

  async insertInitialAccessToken(record: InitialAccessTokenRecord): Promise<void> {
    this.#checkOpen();
    checkStorableInitialAccessToken(record);
    // The SQL stores reject both through their primary key and unique index.
    if (this.#tokens.has(record.id) || this.#tokenIdsByHash.has(record.tokenHash)) {
      throw new Error(`initial access token ${JSON.stringify(record.id)} already exists`);
    }
    this.#tokens.set(record.id, copyDefined(record));
    this.#tokenIdsByHash.set(record.tokenHash, record.id);
  }

  async consumeInitialAccessToken(tokenHash: string, now: number): Promise<InitialAccessTokenRecord | null> {
    this.#checkOpen();
    const id = this.#tokenIdsByHash.get(tokenHash);
    const token = id === undefined ? undefined : this.#tokens.get(id);
    if (!token || token.revokedAt !== undefined) return null;
    if (token.expiresAt !== null && token.expiresAt <= now) return null;
    if (token.usesRemaining !== null) {
      if (token.usesRemaining <= 0) return null;
      token.usesRemaining -= 1;
    }
    return frozenCopy(token);
  }

  async listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]> {
    this.#checkOpen();
    return [...this.#tokens.values()]
      .sort((a, b) => a.createdAt - b.createdAt || compareCodePoints(a.id, b.id))
      .map((token) => frozenCopy(token));
  }

  async revokeInitialAccessToken(id: string, at: number): Promise<boolean> {
    this.#checkOpen();
    const token = this.#tokens.get(id);
    if (!token || token.revokedAt !== undefined) return false;
    token.revokedAt = at;
    return true;
  }

  async appendAuditEvent(event: AuditEvent): Promise<void> {
    this.#checkOpen();
    this.#auditEvents.push(frozenCopy({ ...storableAuditEvent(event), id: this.#nextAuditId++ }));
    // A process-memory trail is bounded: the newest events are the useful ones, and an
    // unbounded array would grow for as long as the server runs. Trimmed in batches: cutting one
    // event off the front of a 10 000-element array on every append cost 50-100 us each.
    if (this.#auditEvents.length >= MAX_MEMORY_AUDIT_EVENTS + AUDIT_TRIM_BATCH) {
      this.#auditEvents.splice(0, this.#auditEvents.length - MAX_MEMORY_AUDIT_EVENTS);
    }
  }

  /** The newest `limit` (default 100) events, oldest first (insertion order). */
  // SCAFFOLD (issue 11): the store work replaces these with real implementations.
  countClients(): Promise<never> {
    return Promise.reject(new Error('not built yet'));
  }
  setClientDisabled(): Promise<never> {
    return Promise.reject(new Error('not built yet'));
  }
  findIdleClients(): Promise<never> {
    return Promise.reject(new Error('not built yet'));
  }
  deleteIdleClients(): Promise<never> {
    return Promise.reject(new Error('not built yet'));
  }
  findClientByFingerprint(): Promise<never> {
    return Promise.reject(new Error('not built yet'));
  }
  deleteAuditEventsBefore(): Promise<never> {
    return Promise.reject(new Error('not built yet'));
  }

  async listAuditEvents(options: { clientId?: string; limit?: number } = {}): Promise<StoredAuditEvent[]> {
    this.#checkOpen();
    const limit = checkListLimit(options.limit);
    if (limit === 0) return [];
    const clientId = options.clientId === undefined ? undefined : auditText(options.clientId);
    const events =
      clientId === undefined ? this.#auditEvents : this.#auditEvents.filter((e) => e.clientId === clientId);
    return events.slice(-limit);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }
}

/** A new, empty in-memory store: `createRegistration({ store: memoryStore() })`. For tests and benchmarks. */
export function memoryStore(): MemoryClientStore {
  return new MemoryClientStore();
}

/**
 * A mutable deep copy without `undefined` properties, for the initial access tokens this store
 * changes in place (uses, revocation); everything it hands out goes through frozenCopy.
 */
function copyDefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Orders strings by Unicode code point, as SQLite's BINARY and PostgreSQL's "C" collations do on
 * UTF-8. JavaScript's `<` compares UTF-16 units, which puts characters above U+FFFF (surrogates,
 * 0xD800-0xDFFF) before U+E000-U+FFFF; the first differing unit decides, so remapping it suffices.
 */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

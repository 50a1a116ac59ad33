import { compareCodePoints } from './code-points.js';
import { checkEpochSeconds } from './epoch.js';
import { ClientExistsError, StoreClosedError } from './errors.js';
import { frozenCopy } from './frozen.js';
import { idleAge, idleBounds, isIdleClient } from './idle-rule.js';
import { MemoryAuditTrail } from './memory-audit.js';
import { checkListLimit } from './sql/list-limit.js';
import { checkStorableClient, checkStorableInitialAccessToken, isStorableText } from './text.js';
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
  RegistrationVia,
  StoredAuditEvent,
} from './types.js';

export { ClientExistsError, StoreClosedError } from './errors.js';
export { MAX_MEMORY_AUDIT_EVENTS } from './memory-audit.js';

/**
 * ClientStore in process memory, for tests and benchmarks. Nothing survives the process.
 *
 * It keeps the same rules as the SQL stores so the contract suite holds for all of them: records
 * are copied in and handed out frozen, each method body runs without an await (so a consume, or
 * an idle-client delete with its re-check, is atomic), client ids list in code point order, and
 * lastUsedAt only moves forward through recordClientUse.
 */
export class MemoryClientStore implements ClientStore {
  readonly #clients = new Map<string, ClientRecord>();
  /** Clients per tier, kept as clients come and go: countClients is called every few seconds. */
  readonly #tierCounts = new Map<RegistrationVia, number>();
  readonly #tokens = new Map<string, InitialAccessTokenRecord>();
  readonly #tokenIdsByHash = new Map<string, string>();
  readonly #audit = new MemoryAuditTrail();
  #closed = false;

  async insertClient(record: ClientRecord): Promise<void> {
    this.#checkOpen();
    // As the SQL stores must (PostgreSQL text cannot hold NUL), see ./text.ts.
    checkStorableClient(record);
    if (this.#clients.has(record.clientId)) throw new ClientExistsError(record.clientId);
    // A new client is at revision 0, which is stored as absent.
    this.#put(frozenCopy({ ...record, revision: undefined }));
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
    // As in the SQL stores: lastUsedAt belongs to recordClientUse and disabledAt to
    // setClientDisabled, a replace never moves them, and the revision is the store's to count.
    this.#put(
      frozenCopy({
        ...record,
        lastUsedAt: stored.lastUsedAt,
        disabledAt: stored.disabledAt,
        revision: revision + 1,
      }),
    );
    return true;
  }

  async deleteClient(clientId: string): Promise<boolean> {
    this.#checkOpen();
    return this.#remove(clientId);
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

  async countClients(): Promise<ClientCounts> {
    this.#checkOpen();
    const byTier: ClientCounts['byTier'] = {};
    for (const [tier, count] of this.#tierCounts) if (count > 0) byTier[tier] = count;
    return { total: this.#clients.size, byTier };
  }

  async setClientDisabled(clientId: string, at: number | null): Promise<boolean> {
    this.#checkOpen();
    checkEpochSeconds('at', at);
    const stored = this.#clients.get(clientId);
    if (!stored) return false;
    // The revision moves so that an RFC 7592 change derived from a read before this one fails its
    // compare-and-set instead of writing over the operator's decision.
    const { disabledAt: _disabledAt, ...rest } = stored;
    const next: ClientRecord = { ...rest, revision: (stored.revision ?? 0) + 1 };
    // An enabled client has no disabledAt at all, as the SQL stores read a NULL column.
    if (at !== null) next.disabledAt = at;
    this.#put(Object.freeze(next));
    return true;
  }

  async findIdleClients(query: IdleClientQuery): Promise<ClientRecord[]> {
    this.#checkOpen();
    const bounds = idleBounds(query);
    if (!bounds) return [];
    const oldestFirst = (a: ClientRecord, b: ClientRecord) =>
      idleAge(a) - idleAge(b) || compareCodePoints(a.clientId, b.clientId);
    // One pass keeping only the oldest candidates: a batch among a million idle clients neither
    // holds nor sorts them all.
    let idle: ClientRecord[] = [];
    for (const record of this.#clients.values()) {
      if (!isIdleClient(record, bounds)) continue;
      idle.push(record);
      if (idle.length >= 2 * bounds.limit + 64) idle = idle.sort(oldestFirst).slice(0, bounds.limit);
    }
    return idle.sort(oldestFirst).slice(0, bounds.limit);
  }

  async deleteIdleClients(query: IdleClientQuery): Promise<string[]> {
    // Found and deleted without an await in between: nothing can use a client meanwhile.
    const idle = await this.findIdleClients(query);
    for (const record of idle) this.#remove(record.clientId);
    return idle.map((record) => record.clientId);
  }

  async findClientByFingerprint(fingerprint: string, createdSince: number): Promise<ClientRecord | null> {
    this.#checkOpen();
    checkEpochSeconds('createdSince', createdSince);
    if (!isStorableText(fingerprint)) return null;
    let newest: ClientRecord | null = null;
    for (const record of this.#clients.values()) {
      if (record.registrationFingerprint !== fingerprint || record.createdAt < createdSince) continue;
      if (
        newest === null ||
        record.createdAt > newest.createdAt ||
        (record.createdAt === newest.createdAt && compareCodePoints(record.clientId, newest.clientId) > 0)
      ) {
        newest = record;
      }
    }
    return newest;
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
    this.#audit.append(event);
  }

  /** The newest `limit` (default 100) matching events, oldest first (insertion order). */
  async listAuditEvents(options: AuditEventQuery = {}): Promise<StoredAuditEvent[]> {
    this.#checkOpen();
    checkEpochSeconds('since', options.since);
    return this.#audit.list(options);
  }

  async deleteAuditEventsBefore(before: number, limit: number): Promise<number> {
    this.#checkOpen();
    checkEpochSeconds('before', before);
    return this.#audit.deleteBefore(before, limit);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  /** Stores a frozen record, keeping the per-tier counts. */
  #put(record: ClientRecord): void {
    const previous = this.#clients.get(record.clientId);
    if (previous) this.#count(previous.registeredVia, -1);
    this.#clients.set(record.clientId, record);
    this.#count(record.registeredVia, 1);
  }

  #remove(clientId: string): boolean {
    const previous = this.#clients.get(clientId);
    if (!previous) return false;
    this.#clients.delete(clientId);
    this.#count(previous.registeredVia, -1);
    return true;
  }

  #count(tier: RegistrationVia, change: number): void {
    this.#tierCounts.set(tier, (this.#tierCounts.get(tier) ?? 0) + change);
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

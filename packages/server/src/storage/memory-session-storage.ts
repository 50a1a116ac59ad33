import type { UserStore } from './records.js';
import type {
  FoundSession,
  PendingAuthorizationRecord,
  SessionCaps,
  SessionRecord,
  SessionStorage,
} from './session-records.js';

/**
 * Sessions and pending requests in process memory (DCR_STORE=memory, one instance only). Each
 * method's changes happen without an await in between, so take is atomic as in the SQL storage.
 */
export class MemorySessionStorage implements SessionStorage {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #pending = new Map<string, PendingAuthorizationRecord>();
  /** Pending ids by session, so that a session's own entries are found without a scan. */
  readonly #pendingBySession = new Map<string, Set<string>>();
  readonly #users: Pick<UserStore, 'findUserById'>;

  /** `users`: to join each found session with its user, as the SQL storage does. */
  constructor(users: Pick<UserStore, 'findUserById'>) {
    this.#users = users;
  }

  async createSession(record: SessionRecord, caps: SessionCaps, now: number): Promise<void> {
    const own = [...this.#sessions.values()].filter((session) => session.userId === record.userId);
    for (const session of own) if (session.expiresAt <= now) this.#deleteSession(session.idHash);
    this.#deleteOldest(
      own.filter((session) => session.expiresAt > now),
      Math.max(0, caps.perUser - 1),
    );
    if (this.#sessions.size >= caps.total) {
      for (const session of [...this.#sessions.values()])
        if (session.expiresAt <= now) this.#deleteSession(session.idHash);
      this.#deleteOldest([...this.#sessions.values()], Math.max(0, caps.total - 1));
    }
    this.#sessions.set(record.idHash, { ...record });
  }

  async findSession(idHash: string, now: number): Promise<FoundSession | null> {
    const session = this.#sessions.get(idHash);
    if (!session || session.expiresAt <= now) return null;
    const user = await this.#users.findUserById(session.userId);
    return user ? { userId: session.userId, username: user.username, expiresAt: session.expiresAt } : null;
  }

  async deleteSession(idHash: string): Promise<void> {
    this.#deleteSession(idHash);
  }

  async addPending(record: PendingAuthorizationRecord, maxPerSession: number, now: number): Promise<void> {
    const own = [...(this.#pendingBySession.get(record.sessionIdHash) ?? [])].map((id) => this.#pending.get(id)!);
    for (const entry of own) if (entry.expiresAt <= now) this.#deletePending(entry);
    const live = own.filter((entry) => entry.expiresAt > now).sort(byAge);
    for (const entry of live.slice(0, Math.max(0, live.length - (maxPerSession - 1)))) this.#deletePending(entry);
    this.#pending.set(record.id, { ...record });
    let ids = this.#pendingBySession.get(record.sessionIdHash);
    if (!ids) {
      ids = new Set();
      this.#pendingBySession.set(record.sessionIdHash, ids);
    }
    ids.add(record.id);
  }

  async findPending(sessionIdHash: string, id: string, now: number): Promise<string | null> {
    const entry = this.#pending.get(id);
    return entry && entry.sessionIdHash === sessionIdHash && entry.expiresAt > now ? entry.request : null;
  }

  async takePending(sessionIdHash: string, id: string, now: number): Promise<string | null> {
    const entry = this.#pending.get(id);
    if (!entry || entry.sessionIdHash !== sessionIdHash || entry.expiresAt <= now) return null;
    this.#deletePending(entry);
    return entry.request;
  }

  async countSessions(now: number): Promise<number> {
    let live = 0;
    for (const session of this.#sessions.values()) if (session.expiresAt > now) live++;
    return live;
  }

  async pruneExpired(now: number): Promise<number> {
    let pruned = 0;
    for (const entry of [...this.#pending.values()]) {
      if (entry.expiresAt > now) continue;
      this.#deletePending(entry);
      pruned++;
    }
    for (const [idHash, session] of this.#sessions)
      if (session.expiresAt <= now && this.#sessions.delete(idHash)) pruned++;
    return pruned;
  }

  /** Deletes the oldest of `sessions` until at most `keep` of them remain. */
  #deleteOldest(sessions: SessionRecord[], keep: number): void {
    const oldestFirst = [...sessions].sort(byAge);
    for (const session of oldestFirst.slice(0, Math.max(0, oldestFirst.length - keep)))
      this.#deleteSession(session.idHash);
  }

  #deleteSession(idHash: string): void {
    this.#sessions.delete(idHash);
    for (const id of this.#pendingBySession.get(idHash) ?? []) this.#pending.delete(id);
    this.#pendingBySession.delete(idHash);
  }

  #deletePending(entry: PendingAuthorizationRecord): void {
    this.#pending.delete(entry.id);
    const ids = this.#pendingBySession.get(entry.sessionIdHash);
    ids?.delete(entry.id);
    if (ids?.size === 0) this.#pendingBySession.delete(entry.sessionIdHash);
  }
}

/** Oldest first; ties (the same millisecond) by key, as the SQL storage orders them. */
function byAge(
  a: { createdAtMs: number; idHash?: string; id?: string },
  b: { createdAtMs: number; idHash?: string; id?: string },
): number {
  if (a.createdAtMs !== b.createdAtMs) return a.createdAtMs - b.createdAtMs;
  const keyA = a.idHash ?? a.id ?? '';
  const keyB = b.idHash ?? b.id ?? '';
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
}

/**
 * Sign-in sessions and the authorization requests waiting for consent, as stored: in the same
 * database as codes and tokens, so that every instance behind a load balancer sees the same ones
 * (no sticky routing needed). The rules they serve are in ../sessions.ts.
 *
 * A session is stored only as the SHA-256 of its id (`idHash`): the id is a 256-bit random bearer
 * value, so a hash is enough (no KDF, as for tokens), and a database dump holds nothing a browser
 * could present. Expiry times are epoch seconds, like every other table; creation times are epoch
 * milliseconds, because they only order rows ("the oldest goes first") and a user opens several
 * tabs within a second.
 */

export interface SessionRecord {
  /** SHA-256 of the session id, base64url. */
  idHash: string;
  userId: string;
  createdAtMs: number;
  expiresAt: number;
}

/** A live session as found: its user is joined in, so /authorize reads both at once. */
export interface FoundSession {
  userId: string;
  username: string;
  expiresAt: number;
}

export interface PendingAuthorizationRecord {
  /** Random, 128 bits; useless without the session it belongs to. */
  id: string;
  sessionIdHash: string;
  /** The validated authorization request, serialised by ../sessions.ts (opaque here). */
  request: string;
  createdAtMs: number;
  expiresAt: number;
}

/** What a new session may push out. */
export interface SessionCaps {
  /** Sessions one user keeps at most, the new one included; that user's oldest go first. */
  perUser: number;
  /** Sessions kept at most, all users together; expired ones go first, then the oldest. */
  total: number;
}

export interface SessionStorage {
  /**
   * Stores a new session after making room for it under `caps`: the user's own oldest first,
   * then, only if the table is full, expired sessions and then the oldest of anyone.
   */
  createSession(record: SessionRecord, caps: SessionCaps, now: number): Promise<void>;
  /** The session with this id hash if it has not expired at `now` and its user still exists. */
  findSession(idHash: string, now: number): Promise<FoundSession | null>;
  /** Deletes a session and its pending requests. */
  deleteSession(idHash: string): Promise<void>;
  /**
   * Stores a pending request after making room for it: the session's expired ones go, then its
   * oldest, so that the session holds at most `maxPerSession` (the new one included).
   */
  addPending(record: PendingAuthorizationRecord, maxPerSession: number, now: number): Promise<void>;
  /** The request of a live pending entry of this session, or null. */
  findPending(sessionIdHash: string, id: string, now: number): Promise<string | null>;
  /**
   * Removes and returns a live pending entry of this session in one atomic step: of two instances
   * taking the same entry at once, exactly one gets it (a consent decision is made once).
   */
  takePending(sessionIdHash: string, id: string, now: number): Promise<string | null>;
  /** Live sessions (for tests and metrics). */
  countSessions(now: number): Promise<number>;
  /** Deletes sessions and pending requests that expired at or before `now`; resolves how many rows went. */
  pruneExpired(now: number): Promise<number>;
}

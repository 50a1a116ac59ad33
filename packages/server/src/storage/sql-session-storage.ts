import type { DeleteQueryBuilder, DeleteResult, QueryCreator } from 'kysely';
import { isStorableText } from 'oauth-dcr';
import { keyLookup, kyselyReads, type RunRead } from './key-lookups.js';
import type { ReferenceDb, ReferenceTables } from './reference-schema.js';
import type {
  FoundSession,
  PendingAuthorizationRecord,
  SessionCaps,
  SessionRecord,
  SessionStorage,
} from './session-records.js';
import { affected, type WriteStatement } from './sql-stores.js';

/**
 * Sessions and pending requests in the client store's database, shared by every instance on it.
 *
 * Cost where it matters: a signed-in GET /authorize reads its session with one indexed statement
 * (the primary key, the user joined in, compiled once; on SQLite prepared once and run
 * synchronously), then adds its pending request in one write (see addPending). Sign-in, which is throttled and pays for scrypt anyway, carries the
 * caps' bookkeeping.
 *
 * Every change is one statement, atomic on both dialects. The caps are bounds, not exact under
 * concurrency: two sign-ins of one user at the same instant may both find room and leave one
 * session more than the cap until that user's next sign-in trims it.
 */
export class SqlSessionStorage implements SessionStorage {
  readonly #findSession;
  readonly #findPending;

  constructor(
    private readonly db: ReferenceDb,
    private readonly write: WriteStatement,
    private readonly dialect: 'sqlite' | 'postgres',
    reads: RunRead = kyselyReads(db),
  ) {
    this.#findSession = keyLookup(
      (idHash) =>
        db
          .selectFrom('ref_sessions')
          .innerJoin('ref_users', 'ref_users.id', 'ref_sessions.user_id')
          .select(['ref_sessions.user_id', 'ref_sessions.expires_at', 'ref_users.username'])
          .where('ref_sessions.id_hash', '=', idHash),
      reads,
    );
    this.#findPending = keyLookup(
      (id) =>
        db
          .selectFrom('ref_pending_authorizations')
          .select(['session_id_hash', 'request', 'expires_at'])
          .where('id', '=', id),
      reads,
    );
  }

  async createSession(record: SessionRecord, caps: SessionCaps, now: number): Promise<void> {
    const { db } = this;
    // The user's own sessions first: expired ones, and the oldest beyond room for the new one.
    await this.#evict(
      db
        .deleteFrom('ref_sessions')
        .where('user_id', '=', record.userId)
        .where('id_hash', 'not in', (eb) =>
          eb
            .selectFrom('ref_sessions')
            .select('id_hash')
            .where('user_id', '=', record.userId)
            .where('expires_at', '>', now)
            .orderBy('created_at_ms', 'desc')
            .orderBy('id_hash', 'desc')
            .limit(Math.max(0, caps.perUser - 1)),
        ),
    );
    // The global bound: counted only here, at sign-in. When full, the expired go, then the oldest.
    const live = await this.countSessions(now);
    const over = live - (caps.total - 1);
    if (over > 0) {
      await this.write(db.deleteFrom('ref_sessions').where('expires_at', '<=', now));
      await this.#evict(
        db
          .deleteFrom('ref_sessions')
          .where('id_hash', 'in', (eb) =>
            eb.selectFrom('ref_sessions').select('id_hash').orderBy('created_at_ms').orderBy('id_hash').limit(over),
          ),
      );
    }
    await this.write(
      db.insertInto('ref_sessions').values({
        id_hash: record.idHash,
        user_id: record.userId,
        created_at_ms: record.createdAtMs,
        expires_at: record.expiresAt,
      }),
    );
  }

  async findSession(idHash: string, now: number): Promise<FoundSession | null> {
    if (!isStorableText(idHash)) return null;
    const row = await this.#findSession(idHash);
    if (!row || Number(row.expires_at) <= now) return null;
    return { userId: row.user_id, username: row.username, expiresAt: Number(row.expires_at) };
  }

  async deleteSession(idHash: string): Promise<void> {
    if (!isStorableText(idHash)) return;
    await Promise.all([
      this.write(this.db.deleteFrom('ref_pending_authorizations').where('session_id_hash', '=', idHash)),
      this.write(this.db.deleteFrom('ref_sessions').where('id_hash', '=', idHash)),
    ]);
  }

  /**
   * PostgreSQL: one statement, the trim in a data-modifying CTE (one round trip). SQLite, which
   * has no DELETE in a WITH clause: two statements issued together, which join one group commit
   * (one fsync, not two). Either way the new entry is left out of the trim: it is the newest.
   */
  async addPending(record: PendingAuthorizationRecord, maxPerSession: number, now: number): Promise<void> {
    const { db } = this;
    const trim = (from: QueryCreator<ReferenceTables>) =>
      from
        .deleteFrom('ref_pending_authorizations')
        .where('session_id_hash', '=', record.sessionIdHash)
        .where('id', '!=', record.id)
        .where('id', 'not in', (eb) =>
          eb
            .selectFrom('ref_pending_authorizations')
            .select('id')
            .where('session_id_hash', '=', record.sessionIdHash)
            .where('id', '!=', record.id)
            .where('expires_at', '>', now)
            .orderBy('created_at_ms', 'desc')
            .orderBy('id', 'desc')
            .limit(Math.max(0, maxPerSession - 1)),
        );
    const row = {
      id: record.id,
      session_id_hash: record.sessionIdHash,
      request: record.request,
      created_at_ms: record.createdAtMs,
      expires_at: record.expiresAt,
    };
    if (this.dialect === 'postgres') {
      await this.write(
        db
          .with('trimmed', (cte) => trim(cte).returning('id'))
          .insertInto('ref_pending_authorizations')
          .values(row),
      );
      return;
    }
    await Promise.all([this.write(trim(db)), this.write(db.insertInto('ref_pending_authorizations').values(row))]);
  }

  async findPending(sessionIdHash: string, id: string, now: number): Promise<string | null> {
    if (!isStorableText(id)) return null;
    const row = await this.#findPending(id);
    return row && row.session_id_hash === sessionIdHash && Number(row.expires_at) > now ? row.request : null;
  }

  /** DELETE ... RETURNING: the row goes to whichever statement deletes it; the other gets none. */
  async takePending(sessionIdHash: string, id: string, now: number): Promise<string | null> {
    if (!isStorableText(id) || !isStorableText(sessionIdHash)) return null;
    const { rows } = await this.write(
      this.db
        .deleteFrom('ref_pending_authorizations')
        .where('id', '=', id)
        .where('session_id_hash', '=', sessionIdHash)
        .where('expires_at', '>', now)
        .returning('request'),
    );
    return rows[0]?.request ?? null;
  }

  async countSessions(now: number): Promise<number> {
    const row = await this.db
      .selectFrom('ref_sessions')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async pruneExpired(now: number): Promise<number> {
    const pending = affected(
      await this.write(this.db.deleteFrom('ref_pending_authorizations').where('expires_at', '<=', now)),
    );
    // A pending request never outlives its session by more than its own short lifetime: those of
    // an expired session are gone at the latest one pending lifetime later.
    return pending + affected(await this.write(this.db.deleteFrom('ref_sessions').where('expires_at', '<=', now)));
  }

  /**
   * Evicts live sessions (a cap made room) and their pending requests: RETURNING names the
   * sessions removed, a handful at a time by construction of the caps.
   */
  async #evict(query: DeleteQueryBuilder<ReferenceTables, 'ref_sessions', DeleteResult>): Promise<void> {
    const { rows } = await this.write(query.returning('id_hash'));
    const hashes = rows.map((row) => row.id_hash);
    if (hashes.length > 0)
      await this.write(this.db.deleteFrom('ref_pending_authorizations').where('session_id_hash', 'in', hashes));
  }
}

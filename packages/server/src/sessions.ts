import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthorizationRequest } from './authorization-request.js';
import type { SessionStorage } from './storage/session-records.js';

/**
 * Browser sessions for /authorize: a random 256-bit id in a cookie, the session in the server's
 * storage (storage/session-records.ts), so that several instances behind one address share them
 * with no sticky routing: a user may sign in on one, consent on another.
 *
 * What is stored, and why a database dump is worth nothing to a thief:
 * - The session id only as its SHA-256 (storage/session-records.ts); the cookie holds the id.
 * - The consent CSRF token not at all: it is derived from the session id (an HMAC keyed with it),
 *   so every instance computes the same one and only a holder of the cookie can.
 * - Pending authorization requests by a random id, bound to the session's hash: without the
 *   session cookie and its CSRF token they cannot be decided.
 *
 * Who can make the server keep state, and how much:
 * - Only a successful sign-in creates a session. Anonymous requests create nothing on the server:
 *   GET /authorize without a session answers with a login page that carries the authorization
 *   request itself (its raw parameters in hidden fields, validated again when the form is posted),
 *   and a login-CSRF token that needs no server storage (below). So no number of anonymous
 *   requests can fill the session table, evict a signed-in user, or drop a login in progress
 *   (which lives in the browser's form until it is posted).
 * - Sign-ins are throttled (login-throttle.ts), so sessions are created only by people who hold
 *   a password, at the rate they can sign in. Each user keeps at most `maxSessionsPerUser`
 *   sessions (their own oldest goes first), so one account signing in in a loop evicts only its
 *   own sessions. The global cap (`maxSessions`) bounds the table (counted at sign-in only, never
 *   on the hot path); it is reached only when more than maxSessions / maxSessionsPerUser distinct
 *   users sign in within a session lifetime, and then the oldest session goes first (expired ones
 *   are dropped before that). Both caps are
 *   bounds kept at sign-in; instances signing one user in at the same instant may overshoot by one
 *   until the next sign-in trims.
 * - A signed-in session holds at most MAX_PENDING_PER_SESSION authorization requests waiting for
 *   consent (its oldest goes first), and each waits at most `pendingTtl`, so a signed-in browser
 *   cannot grow without bound either. A decision takes its request in one atomic step: posted to
 *   two instances at once, it is made once. Expired sessions and requests are deleted by pruning
 *   (storage/maintenance.ts).
 *
 * Cookies (RFC 6265bis):
 * - The session cookie is HttpOnly and SameSite=Lax: Lax, because the user arrives at /authorize
 *   by a top-level navigation from another site and the session must come along (§8.8.2). On
 *   https it carries the __Host- prefix (§4.1.3.2): bound to this host, never set by a subdomain.
 * - Signing in always issues a new session id, never reusing one the browser presented: an id an
 *   attacker planted before sign-in is worth nothing after it (session fixation); the presented
 *   session, if any, is ended.
 * - Consent is protected by a synchronizer token tied to the session (RFC 6749 §10.12 CSRF),
 *   checked in constant time.
 * - Login is protected against login CSRF (an attacker signing the victim in as the attacker) by
 *   a double-submit token: a random 256-bit value in a SameSite=Strict, HttpOnly cookie, repeated
 *   in the form, compared in constant time. A cross-site page can neither read the value nor make
 *   the browser send the Strict cookie with its POST. With __Host- on https, a subdomain cannot
 *   plant the cookie either.
 */
export interface Session {
  /** The id the browser holds; only its hash is stored. */
  readonly id: string;
  readonly idHash: string;
  /** The consent form's synchronizer token, derived from the id. */
  readonly csrfToken: string;
  readonly userId: string;
  /** The signed-in user's name, read with the session (one read). */
  readonly username: string;
  readonly expiresAt: number;
}

export interface SessionOptions {
  /** Send the cookies only over https, with the __Host- prefix. True when the issuer is https. */
  secure: boolean;
  /** Where sessions and pending requests live: `storage.sessions`, shared by every instance on its database. */
  storage: SessionStorage;
  /** Seconds a session lives. Default 8 hours. */
  ttl?: number;
  /** Seconds a pending authorization request waits for the user's consent. Default 10 minutes. */
  pendingTtl?: number;
  /** Signed-in sessions kept at most, all users together; the oldest go first. Default 10 000. */
  maxSessions?: number;
  /** Signed-in sessions kept at most for one user; that user's oldest go first. Default 20. */
  maxSessionsPerUser?: number;
}

const MAX_PENDING_PER_SESSION = 20;
/** A session id or login-CSRF token: 32 random bytes, base64url. Anything else in a cookie is ignored. */
const TOKEN_32 = /^[A-Za-z0-9_-]{43}$/;
/** A pending request id: 16 random bytes, base64url. */
const PENDING_ID = /^[A-Za-z0-9_-]{22}$/;
/** The HMAC message that derives the consent CSRF token from a session id (domain separation). */
const CSRF_DERIVATION = 'oauth-dcr consent csrf v1';

export class SessionStore {
  readonly #storage: SessionStorage;
  readonly #cookieName: string;
  readonly #loginCsrfCookieName: string;
  readonly #secure: boolean;
  readonly #ttl: number;
  readonly #pendingTtl: number;
  readonly #maxSessions: number;
  readonly #maxSessionsPerUser: number;

  constructor(options: SessionOptions) {
    this.#storage = options.storage;
    this.#secure = options.secure;
    // RFC 6265bis §4.1.3.2: a __Host- cookie is bound to this exact host, over https only.
    this.#cookieName = options.secure ? '__Host-dcr_session' : 'dcr_session';
    this.#loginCsrfCookieName = options.secure ? '__Host-dcr_login_csrf' : 'dcr_login_csrf';
    this.#ttl = options.ttl ?? 8 * 3600;
    this.#pendingTtl = options.pendingTtl ?? 600;
    this.#maxSessions = Math.max(1, options.maxSessions ?? 10_000);
    this.#maxSessionsPerUser = Math.max(1, options.maxSessionsPerUser ?? 20);
  }

  /** How many live sessions are kept now (for tests and metrics). */
  count(): Promise<number> {
    return this.#storage.countSessions(now());
  }

  /** The request's live session, if its cookie names one: one indexed read. Never creates anything. */
  async find(req: IncomingMessage): Promise<Session | undefined> {
    const id = this.#presentedId(req);
    if (!id) return undefined;
    const idHash = hashSessionId(id);
    const found = await this.#storage.findSession(idHash, now());
    if (!found) return undefined;
    return {
      id,
      idHash,
      csrfToken: deriveCsrfToken(id),
      userId: found.userId,
      username: found.username,
      expiresAt: found.expiresAt,
    };
  }

  /**
   * A new signed-in session for `userId`, after the password was checked. Any session the
   * request presented is ended, and the new one gets a fresh id and CSRF token (session
   * fixation); its pending requests are not carried over (they belonged to whoever was signed in).
   */
  async signIn(req: IncomingMessage, res: ServerResponse, userId: string): Promise<Session> {
    const presented = this.#presentedId(req);
    if (presented) await this.#storage.deleteSession(hashSessionId(presented));
    const id = randomBytes(32).toString('base64url');
    const idHash = hashSessionId(id);
    await this.#storage.createSession(
      { idHash, userId, createdAtMs: Date.now(), expiresAt: now() + this.#ttl },
      { perUser: this.#maxSessionsPerUser, total: this.#maxSessions },
      now(),
    );
    // Read back as any instance will read it (with the user's name): once per sign-in, which is
    // throttled and has just paid for scrypt.
    const found = await this.#storage.findSession(idHash, now());
    if (!found) throw new Error('the signed-in user does not exist');
    const attributes = [
      'Path=/',
      `Max-Age=${this.#ttl}`,
      'HttpOnly',
      'SameSite=Lax',
      ...(this.#secure ? ['Secure'] : []),
    ];
    appendSetCookie(res, `${this.#cookieName}=${id}; ${attributes.join('; ')}`);
    return { id, idHash, csrfToken: deriveCsrfToken(id), ...found };
  }

  /** Ends a session (its user is gone, or it signs out), with its pending requests. */
  async end(session: Session): Promise<void> {
    await this.#storage.deleteSession(session.idHash);
  }

  /** Remembers a validated request until the user decides; resolves its random id. */
  async addPending(session: Session, request: AuthorizationRequest): Promise<string> {
    const id = randomBytes(16).toString('base64url');
    const at = now();
    await this.#storage.addPending(
      {
        id,
        sessionIdHash: session.idHash,
        request: JSON.stringify(request),
        createdAtMs: Date.now(),
        expiresAt: at + this.#pendingTtl,
      },
      MAX_PENDING_PER_SESSION,
      at,
    );
    return id;
  }

  async findPending(session: Session, id: unknown): Promise<AuthorizationRequest | undefined> {
    if (typeof id !== 'string' || !PENDING_ID.test(id)) return undefined;
    const stored = await this.#storage.findPending(session.idHash, id, now());
    return stored === null ? undefined : (JSON.parse(stored) as AuthorizationRequest);
  }

  /**
   * Removes and returns a pending request in one atomic step: a decision is made once, even when
   * it is posted to two instances at the same time (the loser gets undefined).
   */
  async takePending(session: Session, id: unknown): Promise<AuthorizationRequest | undefined> {
    if (typeof id !== 'string' || !PENDING_ID.test(id)) return undefined;
    const stored = await this.#storage.takePending(session.idHash, id, now());
    return stored === null ? undefined : (JSON.parse(stored) as AuthorizationRequest);
  }

  /** Checks the consent form's synchronizer token (RFC 6749 §10.12). */
  verifyCsrf(session: Session, token: unknown): boolean {
    return equalTokens(session.csrfToken, token);
  }

  /**
   * The login-CSRF token to put in a login form: the one the browser's cookie already holds (so
   * several tabs share it), or a new one set in a cookie. Nothing is kept on the server.
   */
  loginCsrfToken(req: IncomingMessage, res: ServerResponse): string {
    const existing = readCookie(req.headers.cookie, this.#loginCsrfCookieName);
    if (existing && TOKEN_32.test(existing)) return existing;
    const token = randomBytes(32).toString('base64url');
    // No Max-Age: it lasts as long as the browser session. Strict: only our own forms post it.
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(this.#secure ? ['Secure'] : [])];
    appendSetCookie(res, `${this.#loginCsrfCookieName}=${token}; ${attributes.join('; ')}`);
    return token;
  }

  /** Double-submit check: the login form's token equals the one in the browser's cookie. */
  verifyLoginCsrf(req: IncomingMessage, token: unknown): boolean {
    const cookie = readCookie(req.headers.cookie, this.#loginCsrfCookieName);
    return cookie !== undefined && TOKEN_32.test(cookie) && equalTokens(cookie, token);
  }

  /** The session id in the request's cookie, if it has the shape of one (nothing else is looked up). */
  #presentedId(req: IncomingMessage): string | undefined {
    const id = readCookie(req.headers.cookie, this.#cookieName);
    return id !== undefined && TOKEN_32.test(id) ? id : undefined;
  }
}

/** SHA-256 is enough for a 256-bit random value (as for tokens); no KDF. */
function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/**
 * The consent CSRF token: HMAC-SHA256 keyed with the session id. Unguessable without the id, the
 * same on every instance, and nothing to store; the stored hash is SHA-256 of the id, from which
 * this cannot be computed.
 */
function deriveCsrfToken(id: string): string {
  return createHmac('sha256', id).update(CSRF_DERIVATION).digest('base64url');
}

const now = () => Math.floor(Date.now() / 1000);

function equalTokens(expected: string, actual: unknown): boolean {
  if (typeof actual !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function appendSetCookie(res: ServerResponse, cookie: string): void {
  const existing = res.getHeader('Set-Cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

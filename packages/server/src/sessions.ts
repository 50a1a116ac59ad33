import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthorizationRequest } from './authorization-request.js';

/**
 * Browser sessions for /authorize: a random 256-bit id in a cookie, data in process memory.
 * (Several instances behind one address need sticky sessions; the authorization flow is short.)
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
 *   own sessions. The global cap (`maxSessions`) stays as a memory bound; it is reached only when
 *   more than maxSessions / maxSessionsPerUser distinct users sign in within a session lifetime,
 *   and then the oldest session goes first (expired ones are dropped before that).
 * - A signed-in session holds at most MAX_PENDING_PER_SESSION authorization requests waiting for
 *   consent, so a signed-in browser cannot grow without bound either.
 *
 * Cookies (RFC 6265bis):
 * - The session cookie is HttpOnly and SameSite=Lax: Lax, because the user arrives at /authorize
 *   by a top-level navigation from another site and the session must come along (§8.8.2). On
 *   https it carries the __Host- prefix (§4.1.3.2): bound to this host, never set by a subdomain.
 * - Signing in always issues a new session id, never reusing one the browser presented: an id an
 *   attacker planted before sign-in is worth nothing after it (session fixation).
 * - Consent is protected by a synchronizer token kept in the session (RFC 6749 §10.12 CSRF),
 *   checked in constant time.
 * - Login is protected against login CSRF (an attacker signing the victim in as the attacker) by
 *   a double-submit token: a random 256-bit value in a SameSite=Strict, HttpOnly cookie, repeated
 *   in the form, compared in constant time. A cross-site page can neither read the value nor make
 *   the browser send the Strict cookie with its POST. With __Host- on https, a subdomain cannot
 *   plant the cookie either.
 */
export interface Session {
  id: string;
  csrfToken: string;
  userId: string;
  /** Validated authorization requests waiting for consent, by random id. */
  pending: Map<string, PendingAuthorization>;
  expiresAt: number;
}

export interface PendingAuthorization {
  request: AuthorizationRequest;
  expiresAt: number;
}

export interface SessionOptions {
  /** Send the cookies only over https, with the __Host- prefix. True when the issuer is https. */
  secure: boolean;
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
/** A login-CSRF token: 32 random bytes, base64url. Anything else in the cookie is ignored. */
const LOGIN_CSRF_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  /** In creation order, which is also expiry order (one fixed ttl): the oldest come first. */
  readonly #sessions = new Map<string, Session>();
  /** Session ids by user, for the per-user cap. */
  readonly #sessionsByUser = new Map<string, Set<string>>();
  readonly #cookieName: string;
  readonly #loginCsrfCookieName: string;
  readonly #secure: boolean;
  readonly #ttl: number;
  readonly #pendingTtl: number;
  readonly #maxSessions: number;
  readonly #maxSessionsPerUser: number;

  constructor(options: SessionOptions) {
    this.#secure = options.secure;
    // RFC 6265bis §4.1.3.2: a __Host- cookie is bound to this exact host, over https only.
    this.#cookieName = options.secure ? '__Host-dcr_session' : 'dcr_session';
    this.#loginCsrfCookieName = options.secure ? '__Host-dcr_login_csrf' : 'dcr_login_csrf';
    this.#ttl = options.ttl ?? 8 * 3600;
    this.#pendingTtl = options.pendingTtl ?? 600;
    this.#maxSessions = Math.max(1, options.maxSessions ?? 10_000);
    this.#maxSessionsPerUser = Math.max(1, options.maxSessionsPerUser ?? 20);
  }

  /** How many sessions are kept now (for tests and metrics). */
  get size(): number {
    return this.#sessions.size;
  }

  /** The request's live session, if its cookie names one. Never creates anything. */
  find(req: IncomingMessage): Session | undefined {
    const id = readCookie(req.headers.cookie, this.#cookieName);
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= now()) {
      this.#delete(session);
      return undefined;
    }
    return session;
  }

  /**
   * A new signed-in session for `userId`, after the password was checked. Any session the
   * request presented is discarded, and the new one gets a fresh id and CSRF token (session
   * fixation); its pending requests are not carried over (they belonged to whoever was signed in).
   */
  signIn(req: IncomingMessage, res: ServerResponse, userId: string): Session {
    const previous = this.find(req);
    if (previous) this.#delete(previous);
    this.#dropExpired();
    const own = this.#sessionsByUser.get(userId);
    while (own && own.size >= this.#maxSessionsPerUser) {
      const oldest = own.values().next().value;
      if (oldest === undefined) break;
      this.#delete(this.#sessions.get(oldest)!);
    }
    while (this.#sessions.size >= this.#maxSessions) {
      const oldest = this.#sessions.values().next().value;
      if (oldest === undefined) break;
      this.#delete(oldest);
    }
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      csrfToken: randomBytes(32).toString('base64url'),
      userId,
      pending: new Map(),
      expiresAt: now() + this.#ttl,
    };
    this.#sessions.set(session.id, session);
    let ids = this.#sessionsByUser.get(userId);
    if (!ids) {
      ids = new Set();
      this.#sessionsByUser.set(userId, ids);
    }
    ids.add(session.id);
    const attributes = [
      'Path=/',
      `Max-Age=${this.#ttl}`,
      'HttpOnly',
      'SameSite=Lax',
      ...(this.#secure ? ['Secure'] : []),
    ];
    appendSetCookie(res, `${this.#cookieName}=${session.id}; ${attributes.join('; ')}`);
    return session;
  }

  /** Ends a session (its user is gone, or it signs out). */
  end(session: Session): void {
    this.#delete(session);
  }

  addPending(session: Session, request: AuthorizationRequest): string {
    const id = randomBytes(16).toString('base64url');
    this.#dropExpiredPending(session);
    if (session.pending.size >= MAX_PENDING_PER_SESSION) {
      const oldest = session.pending.keys().next().value;
      if (oldest !== undefined) session.pending.delete(oldest);
    }
    session.pending.set(id, { request, expiresAt: now() + this.#pendingTtl });
    return id;
  }

  findPending(session: Session, id: unknown): AuthorizationRequest | undefined {
    if (typeof id !== 'string') return undefined;
    this.#dropExpiredPending(session);
    return session.pending.get(id)?.request;
  }

  /** Removes and returns a pending request: a decision is made once. */
  takePending(session: Session, id: unknown): AuthorizationRequest | undefined {
    const request = this.findPending(session, id);
    if (request) session.pending.delete(id as string);
    return request;
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
    if (existing && LOGIN_CSRF_TOKEN.test(existing)) return existing;
    const token = randomBytes(32).toString('base64url');
    // No Max-Age: it lasts as long as the browser session. Strict: only our own forms post it.
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(this.#secure ? ['Secure'] : [])];
    appendSetCookie(res, `${this.#loginCsrfCookieName}=${token}; ${attributes.join('; ')}`);
    return token;
  }

  /** Double-submit check: the login form's token equals the one in the browser's cookie. */
  verifyLoginCsrf(req: IncomingMessage, token: unknown): boolean {
    const cookie = readCookie(req.headers.cookie, this.#loginCsrfCookieName);
    return cookie !== undefined && LOGIN_CSRF_TOKEN.test(cookie) && equalTokens(cookie, token);
  }

  #delete(session: Session): void {
    this.#sessions.delete(session.id);
    const ids = this.#sessionsByUser.get(session.userId);
    ids?.delete(session.id);
    if (ids && ids.size === 0) this.#sessionsByUser.delete(session.userId);
  }

  /** Sessions expire in creation order, so the expired ones are at the front. */
  #dropExpired(): void {
    const at = now();
    for (const session of this.#sessions.values()) {
      if (session.expiresAt > at) break;
      this.#delete(session);
    }
  }

  #dropExpiredPending(session: Session): void {
    const at = now();
    for (const [id, entry] of session.pending) if (entry.expiresAt <= at) session.pending.delete(id);
  }
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

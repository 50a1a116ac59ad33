import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthorizationRequest } from './authorization-request.js';

/**
 * Browser sessions for /authorize: a random 256-bit id in a cookie, data in process memory.
 * (Several instances behind one address need sticky sessions; the authorization flow is short.)
 *
 * - The cookie is HttpOnly and SameSite=Lax: Lax, because the user arrives at /authorize by a
 *   top-level navigation from another site and the session must come along.
 * - Every form carries the session's CSRF token (synchronizer token), checked in constant time.
 * - Signing in issues a new session id (session fixation).
 */
export interface Session {
  id: string;
  csrfToken: string;
  userId?: string;
  /** Validated authorization requests waiting for login or consent, by random id. */
  pending: Map<string, PendingAuthorization>;
  expiresAt: number;
}

export interface PendingAuthorization {
  request: AuthorizationRequest;
  expiresAt: number;
}

export interface SessionOptions {
  /** Send the cookie only over https, with the __Host- prefix. True when the issuer is https. */
  secure: boolean;
  /** Seconds a session lives. Default 8 hours. */
  ttl?: number;
  /** Seconds a pending authorization request waits for the user. Default 10 minutes. */
  pendingTtl?: number;
  /** Sessions kept at most; the oldest go first. Default 10 000. */
  maxSessions?: number;
}

const MAX_PENDING_PER_SESSION = 20;

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #cookieName: string;
  readonly #secure: boolean;
  readonly #ttl: number;
  readonly #pendingTtl: number;
  readonly #maxSessions: number;

  constructor(options: SessionOptions) {
    this.#secure = options.secure;
    // RFC 6265bis §4.1.3.2: a __Host- cookie is bound to this exact host, over https only.
    this.#cookieName = options.secure ? '__Host-dcr_session' : 'dcr_session';
    this.#ttl = options.ttl ?? 8 * 3600;
    this.#pendingTtl = options.pendingTtl ?? 600;
    this.#maxSessions = options.maxSessions ?? 10_000;
  }

  /** The request's live session, if its cookie names one. */
  find(req: IncomingMessage): Session | undefined {
    const id = readCookie(req.headers.cookie, this.#cookieName);
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  findOrCreate(req: IncomingMessage, res: ServerResponse): Session {
    return this.find(req) ?? this.#create(res, new Map());
  }

  /** A new id and CSRF token for the same pending requests, on sign-in (session fixation). */
  rotate(session: Session, res: ServerResponse): Session {
    this.#sessions.delete(session.id);
    return this.#create(res, session.pending);
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

  verifyCsrf(session: Session, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(session.csrfToken);
    const actual = Buffer.from(token);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  #create(res: ServerResponse, pending: Map<string, PendingAuthorization>): Session {
    while (this.#sessions.size >= this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      csrfToken: randomBytes(32).toString('base64url'),
      pending,
      expiresAt: now() + this.#ttl,
    };
    this.#sessions.set(session.id, session);
    const attributes = [`Path=/`, `Max-Age=${this.#ttl}`, 'HttpOnly', 'SameSite=Lax', ...(this.#secure ? ['Secure'] : [])];
    appendSetCookie(res, `${this.#cookieName}=${session.id}; ${attributes.join('; ')}`);
    return session;
  }

  #dropExpiredPending(session: Session): void {
    const at = now();
    for (const [id, entry] of session.pending) if (entry.expiresAt <= at) session.pending.delete(id);
  }
}

const now = () => Math.floor(Date.now() / 1000);

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

import type { Request, RequestHandler, Response } from 'express';
import type { ServerContext } from '../context.js';
import { ADMIN_PAGE_HEADERS, type AdminFrame } from '../pages/admin-layout.js';
import { renderAdminForbiddenPage, renderAdminLoginPage, renderAdminMessagePage } from '../pages/admin-login.js';
import type { Session } from '../sessions.js';
import type { User } from '../users.js';
import { FORM_BODY } from './token.js';

/** The signed-in operator a handler acts for. */
export interface Operator {
  session: Session;
  user: User;
  frame: AdminFrame;
}

/** A handler that runs only for a signed-in operator. */
export type OperatorHandler = (req: Request, res: Response, operator: Operator) => Promise<void>;

/** Wraps a handler so that it runs only for an operator (and, for a POST, only with the CSRF token). */
export type OperatorGuard = (method: 'get' | 'post', handler: OperatorHandler) => RequestHandler[];

/**
 * Who may act, checked in this order:
 * - a POST from another site (Fetch Metadata) or without the session's synchronizer token
 *   (RFC 6749 §10.12, compared in constant time by SessionStore.verifyCsrf): 403, nothing changes;
 * - no session (a deleted user has none): the operator sign-in form;
 * - a user not named in DCR_OPERATORS: 403, with nothing of the data.
 */
export function createOperatorGuard(context: ServerContext, operators: readonly string[]): OperatorGuard {
  const { sessions } = context;
  const allowed = new Set(operators);
  const basePath = context.basePath;

  async function operatorOf(req: Request, res: Response, post: boolean): Promise<Operator | undefined> {
    if (post && crossSite(req)) {
      sendAdminPage(res, 403, staleFormPage(basePath));
      return undefined;
    }
    const session = await sessions.find(req);
    if (post && (!session || !sessions.verifyCsrf(session, formOf(req).csrf_token))) {
      sendAdminPage(res, 403, staleFormPage(basePath));
      return undefined;
    }
    if (!session) {
      sendAdminPage(res, 200, adminLoginPage(context, req, res));
      return undefined;
    }
    // The session is read joined with its user: a deleted user has no session.
    const user: User = { id: session.userId, username: session.username };
    const frame: AdminFrame = { basePath, username: user.username, csrfToken: session.csrfToken };
    if (!allowed.has(user.username)) {
      context.logger.info({ path: req.path }, 'admin page refused to a user who is not an operator');
      sendAdminPage(res, 403, renderAdminForbiddenPage(frame));
      return undefined;
    }
    return { session, user, frame };
  }

  return (method, handler) => {
    const run: RequestHandler = async (req, res) => {
      const operator = await operatorOf(req, res, method === 'post');
      if (operator) await handler(req, res, operator);
    };
    return method === 'post' ? [FORM_BODY, run] : [run];
  };
}

/** The sign-in form with the browser's login-CSRF token (set in a cookie when it has none). */
export function adminLoginPage(
  context: ServerContext,
  req: Request,
  res: Response,
  extra: { username?: string; error?: string } = {},
): string {
  return renderAdminLoginPage({
    basePath: context.basePath,
    csrfToken: context.sessions.loginCsrfToken(req, res),
    ...extra,
  });
}

export function staleFormPage(basePath: string): string {
  return renderAdminMessagePage(
    'This form cannot be used',
    'It has expired or did not come from this server. Open the admin page and try again.',
    basePath,
  );
}

/**
 * Fetch Metadata: browsers say where a request came from. Only this origin's own pages post here;
 * browsers that send no Sec-Fetch-Site still meet the token check and the SameSite=Lax cookie.
 */
export function crossSite(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  return site === 'cross-site' || site === 'same-site';
}

export function formOf(req: Request): Record<string, unknown> {
  return typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
}

export function sendAdminPage(res: Response, status: number, body: string): void {
  res.status(status).set(ADMIN_PAGE_HEADERS).send(body);
}

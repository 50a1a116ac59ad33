import { refusedSignIn } from '../login-throttle.js';
import { Router, type ErrorRequestHandler } from 'express';
import type { ServerContext } from '../context.js';
import { renderAdminMessagePage } from '../pages/admin-login.js';
import { authenticateUser } from '../users.js';
import { adminLoginPage, createOperatorGuard, crossSite, formOf, sendAdminPage, staleFormPage } from './admin-guard.js';
import { adminPageRoutes } from './admin-pages.js';
import { FORM_BODY } from './token.js';

export interface AdminRouteOptions {
  /** Usernames allowed in (DCR_OPERATORS). Empty: nobody; every signed-in user gets 403. */
  operators: readonly string[];
}

/**
 * The admin pages (/admin), for the operators named in DCR_OPERATORS: clients, the audit trail,
 * disable / enable / delete, and initial access tokens.
 *
 * Who gets in: the same users, password check, login throttle, login-CSRF double-submit and
 * sessions as the consent login (routes/authorize.ts, sessions.ts), through the operator's own
 * form at POST /admin/login. A signed-in user who is not an operator gets 403 and no data.
 *
 * Cross-site requests (RFC 6749 §10.12 names the attack for consent; it holds here too): every
 * state-changing request is a POST carrying the session's synchronizer token, GET never changes
 * state, the session cookie is SameSite=Lax (another site's POST arrives without it), and a POST
 * a browser labels cross-site is refused first (admin-guard.ts).
 */
export function adminRoutes(context: ServerContext, options: AdminRouteOptions): Router {
  const router = Router();
  const { sessions } = context;
  const base = context.basePath;

  router.post('/admin/login', FORM_BODY, async (req, res) => {
    const form = formOf(req);
    // Login CSRF (RFC 6749 §10.12): the double-submit token must match the browser's cookie.
    if (crossSite(req) || !sessions.verifyLoginCsrf(req, form.csrf_token)) {
      sendAdminPage(res, 403, staleFormPage(base));
      return;
    }
    const username = typeof form.username === 'string' ? form.username.trim() : '';
    const password = typeof form.password === 'string' ? form.password : '';
    // Counted before the password is checked, in the same budgets as the consent login.
    const attempt = await context.loginThrottle.begin(context.clientAddress(req), username);
    if (!attempt.allowed) {
      const refused = refusedSignIn(attempt);
      res.set('Retry-After', String(attempt.retryAfterSeconds));
      sendAdminPage(res, refused.status, adminLoginPage(context, req, res, { username, error: refused.message }));
      return;
    }
    const user = await authenticateUser(context.storage.users, username, password);
    if (!user) {
      context.logger.info('failed sign-in at /admin');
      const error = 'That username and password do not match.';
      sendAdminPage(res, 401, adminLoginPage(context, req, res, { username, error }));
      return;
    }
    await attempt.succeeded();
    // A new session id whatever the browser presented (fixation), as at /authorize/login.
    await sessions.signIn(req, res, user.id);
    res
      .status(303)
      .set({ Location: `${base}/admin`, 'Cache-Control': 'no-store' })
      .end();
  });

  router.post('/admin/logout', FORM_BODY, async (req, res) => {
    const session = await sessions.find(req);
    if (crossSite(req) || !session || !sessions.verifyCsrf(session, formOf(req).csrf_token)) {
      sendAdminPage(res, 403, staleFormPage(base));
      return;
    }
    await sessions.end(session);
    res
      .status(303)
      .set({ Location: `${base}/admin`, 'Cache-Control': 'no-store' })
      .end();
  });

  router.use(adminPageRoutes(context, createOperatorGuard(context, options.operators)));

  // Anything else under /admin: a page, not the JSON 404 of the API routes.
  router.all(/^\/admin(\/.*)?$/, (_req, res) => {
    sendAdminPage(res, 404, renderAdminMessagePage('Not found', 'There is no such admin page.', base));
  });

  // Anything thrown here is a page (a browser is on the other end), never a stack trace.
  const pageErrors: ErrorRequestHandler = (error, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) context.logger.error({ err: error }, 'unhandled error in the admin pages');
    const [title, message] =
      status === 500
        ? ['Something went wrong', 'Something went wrong on the server. Please try again.']
        : ['Bad request', 'The request could not be read.'];
    sendAdminPage(res, status, renderAdminMessagePage(title, message, base));
  };
  router.use('/admin', pageErrors);
  return router;
}

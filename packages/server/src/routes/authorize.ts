import { refusedSignIn } from '../login-throttle.js';
import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import type { OAuth2ServerClient } from 'oauth-dcr/oauth2-server';
import {
  buildClientRedirect,
  carriedParameters,
  isUsableRedirectUri,
  validateAuthorizationRequest,
  type AuthorizationRequest,
  type AuthorizationRequestOutcome,
} from '../authorization-request.js';
import type { ServerContext } from '../context.js';
import { newGrantSubject } from '../model.js';
import { clientViewOf, type ClientView } from '../pages/client-view.js';
import { renderConsentPage } from '../pages/consent.js';
import { renderErrorPage, type ErrorPage } from '../pages/error.js';
import { PAGE_HEADERS } from '../pages/layout.js';
import { renderLoginPage } from '../pages/login.js';
import type { Session } from '../sessions.js';
import { authenticateUser, type User } from '../users.js';
import { FORM_BODY } from './token.js';

/**
 * The authorization endpoint (RFC 6749 §3.1, §4.1) as three steps:
 *   GET  /authorize            validate; signed in: remember the request in the session and show
 *                              consent; not signed in: show the login page, which carries the
 *                              request itself, and keep nothing on the server (see sessions.ts)
 *   POST /authorize/login      validate the carried request again, count the attempt, check the
 *                              password, start a session, then show consent (303 to GET /authorize/consent)
 *   POST /authorize/decision   approve: issue the code through the library; deny: access_denied
 * Errors before the client and redirect URI are trusted render a page; after, they go to the
 * client with `state` and `iss` (RFC 9207). Every answer is a page or a 303 redirect (RFC 9700
 * §4.12: 303, so a browser never re-posts the password to the client).
 */
export function authorizeRoutes(context: ServerContext): Router {
  const router = Router();
  const { sessions } = context;

  router.get('/authorize', async (req, res) => {
    const outcome = await validateAuthorizationRequest(req.query as Record<string, unknown>, {
      clients: context.model,
      resources: context.resources,
      lookupClient: context.registration.lookupClient,
    });
    if (outcome.kind !== 'valid') {
      answerInvalidRequest(res, outcome);
      return;
    }
    // One indexed read: the session with its user (a session whose user is gone is not found).
    const session = await sessions.find(req);
    if (!session) {
      // Not signed in: nothing is stored. The login form carries the request (sessions.ts).
      sendPage(res, 200, loginPage(req, res, outcome.client, outcome.request));
      return;
    }
    const requestId = await sessions.addPending(session, outcome.request);
    sendPage(res, 200, consentPage(context, session, requestId, outcome.request, outcome.client));
  });

  router.post('/authorize/login', FORM_BODY, async (req, res) => {
    const form = formOf(req);
    // Login CSRF (RFC 6749 §10.12): the double-submit token must match the browser's cookie.
    if (!sessions.verifyLoginCsrf(req, form.csrf_token)) {
      sendPage(
        res,
        403,
        errorPage(
          'invalid_request',
          'This form has expired or did not come from this server. Go back to the application and start again.',
        ),
      );
      return;
    }
    // The request came back from the browser: it is validated again, as if it were new.
    const outcome = await validateAuthorizationRequest(carriedParameters(form), {
      clients: context.model,
      resources: context.resources,
      lookupClient: context.registration.lookupClient,
    });
    if (outcome.kind !== 'valid') {
      answerInvalidRequest(res, outcome);
      return;
    }
    const { client, request } = outcome;
    const username = typeof form.username === 'string' ? form.username.trim() : '';
    const password = typeof form.password === 'string' ? form.password : '';
    // Counted before the password is checked, so parallel guesses cannot outrun the count.
    const attempt = await context.loginThrottle.begin(context.clientAddress(req), username);
    if (!attempt.allowed) {
      context.logger.info({ clientId: client.id, reason: attempt.reason }, 'sign-in throttled at /authorize');
      const refused = refusedSignIn(attempt);
      res.set('Retry-After', String(attempt.retryAfterSeconds));
      sendPage(res, refused.status, loginPage(req, res, client, request, { username, error: refused.message }));
      return;
    }
    const user = await authenticateUser(context.storage.users, username, password);
    if (!user) {
      context.logger.info({ clientId: client.id }, 'failed sign-in at /authorize');
      sendPage(
        res,
        401,
        loginPage(req, res, client, request, { username, error: 'That username and password do not match.' }),
      );
      return;
    }
    await attempt.succeeded();
    // The only place a session is created: a new id, whatever the browser presented (fixation).
    const session = await sessions.signIn(req, res, user.id);
    const requestId = await sessions.addPending(session, request);
    res
      .status(303)
      .set('Location', `${context.basePath}/authorize/consent?request=${encodeURIComponent(requestId)}`)
      .end();
  });

  router.get('/authorize/consent', async (req, res) => {
    const session = await sessions.find(req);
    const requestId = req.query.request;
    const request = session ? await sessions.findPending(session, requestId) : undefined;
    if (!session || !request || typeof requestId !== 'string') {
      sendPage(res, 400, expiredPage());
      return;
    }
    const client = await context.model.getClient(request.clientId, null);
    if (!client) {
      sendPage(res, 400, errorPage('invalid_client', 'This application is no longer registered.'));
      return;
    }
    sendPage(res, 200, consentPage(context, session, requestId, request, client));
  });

  router.post('/authorize/decision', FORM_BODY, async (req, res) => {
    const form = formOf(req);
    const found = await pendingFor(req, res, form);
    if (!found) return;
    const { session, requestId, client } = found;
    if (form.decision !== 'approve' && form.decision !== 'deny') {
      sendPage(res, 400, errorPage('invalid_request', 'The consent form was not answered with Allow or Deny.'));
      return;
    }
    // The decision is made once: taking the request is atomic across instances, and whoever
    // loses a race (a double submit, or the same form posted to two instances) is told it is used.
    const request = await sessions.takePending(session, requestId);
    if (!request) {
      sendPage(res, 400, expiredPage());
      return;
    }
    // Checked before a code is stored: a code must never be issued to a URI that cannot receive it.
    if (!isUsableRedirectUri(request.redirectUri)) {
      sendPage(res, 400, invalidRedirectPage());
      return;
    }
    const respond = (params: Record<string, string | undefined>) =>
      redirectToClient(res, request.redirectUri, { ...params, state: request.state, iss: context.issuer });

    if (form.decision === 'deny') {
      context.logger.info({ clientId: client.id }, 'user denied authorization');
      respond({ error: 'access_denied', error_description: 'The user denied the request' });
      return;
    }
    try {
      const code = await issueAuthorizationCode(context, request, userOf(session));
      context.logger.info({ clientId: client.id }, 'authorization code issued');
      respond({ code });
    } catch (error) {
      // The client and redirect URI were validated, so the error may go back to the client.
      const known = error instanceof OAuth2Server.OAuthError && error.code < 500;
      if (!known) context.logger.error({ err: error }, 'authorization code could not be issued');
      respond({
        error: known ? error.name : 'server_error',
        error_description: known ? error.message : 'The authorization server could not complete the request',
      });
    }
  });

  // Anything thrown in these routes is shown as a page: a browser is on the other end.
  const pageErrors: ErrorRequestHandler = (error, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = typeof error?.status === 'number' && error.status < 500 ? error.status : 500;
    if (status === 500) context.logger.error({ err: error }, 'unhandled error at /authorize');
    sendPage(
      res,
      status,
      status === 500
        ? errorPage('server_error', 'Something went wrong on the server. Please try again.')
        : errorPage('invalid_request', 'The request could not be read.'),
    );
  };
  router.use('/authorize', pageErrors);
  return router;

  /**
   * An invalid authorization request: an error page while the client or its redirect URI is not
   * trusted, otherwise the error goes back to the client with `state` and `iss` (RFC 6749 §4.1.2.1,
   * RFC 9207).
   */
  function answerInvalidRequest(res: Response, outcome: Exclude<AuthorizationRequestOutcome, { kind: 'valid' }>): void {
    if (outcome.kind === 'page') {
      sendPage(res, outcome.status, errorPage(outcome.error, outcome.description));
      return;
    }
    redirectToClient(res, outcome.redirectUri, {
      error: outcome.error,
      error_description: outcome.description,
      state: outcome.state,
      iss: context.issuer,
    });
  }

  /** The login page, carrying the authorization request and the login-CSRF token. */
  function loginPage(
    req: Request,
    res: Response,
    client: OAuth2ServerClient,
    request: AuthorizationRequest,
    extra: { username?: string; error?: string } = {},
  ): string {
    return renderLoginPage({
      basePath: context.basePath,
      authorizationParameters: request.parameters,
      csrfToken: sessions.loginCsrfToken(req, res),
      client: clientView(client),
      ...extra,
    });
  }

  /** The session, CSRF token and pending request a form post refers to, or an error page sent. */
  async function pendingFor(req: Request, res: Response, form: Record<string, unknown>) {
    const session = await sessions.find(req);
    if (!session || !sessions.verifyCsrf(session, form.csrf_token)) {
      sendPage(
        res,
        403,
        errorPage(
          'invalid_request',
          'This form has expired or did not come from this server. Go back to the application and start again.',
        ),
      );
      return undefined;
    }
    const requestId = form.request;
    const request = await sessions.findPending(session, requestId);
    if (!request || typeof requestId !== 'string') {
      sendPage(res, 400, expiredPage());
      return undefined;
    }
    const client = await context.model.getClient(request.clientId, null);
    if (!client) {
      await sessions.takePending(session, requestId);
      sendPage(res, 400, errorPage('invalid_client', 'This application is no longer registered.'));
      return undefined;
    }
    return { session, requestId, request, client };
  }
}

/**
 * Issues the code through @node-oauth/oauth2-server's authorize handler (which checks the client,
 * redirect URI and scope once more and calls the model's saveAuthorizationCode), then returns it.
 * The redirect itself is built here, to add `iss` and keep the registered URI's own query.
 */
async function issueAuthorizationCode(
  context: ServerContext,
  request: AuthorizationRequest,
  user: User,
): Promise<string> {
  const query: Record<string, string> = {
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    response_type: 'code',
  };
  if (request.state !== undefined) query.state = request.state;
  if (request.scope.length > 0) query.scope = request.scope.join(' ');
  if (request.codeChallenge) {
    query.code_challenge = request.codeChallenge;
    query.code_challenge_method = request.codeChallengeMethod ?? 'S256';
  }
  const subject = newGrantSubject(user, { redirectUriSent: request.redirectUriSent, resources: request.resources });
  const code = await context.oauth.authorize(
    new OAuth2Server.Request({ method: 'GET', headers: {}, query, body: {} }),
    new OAuth2Server.Response(),
    // State is optional with PKCE (RFC 9700 §2.1.1); the library would otherwise require it.
    { authenticateHandler: { handle: () => subject }, allowEmptyState: true },
  );
  return code.authorizationCode;
}

function consentPage(
  context: ServerContext,
  session: Session,
  requestId: string,
  request: AuthorizationRequest,
  client: OAuth2ServerClient,
): string {
  const page = {
    basePath: context.basePath,
    requestId,
    csrfToken: session.csrfToken,
    client: clientView(client),
    username: session.username,
    redirectUri: request.redirectUri,
    scopes: request.scope,
    // RFC 8707: the resources the token will be for (the consent page shows them).
    resources: request.resources,
  };
  return renderConsentPage(page);
}

/** The signed-in user, as the session was read with it. */
function userOf(session: Session): User {
  return { id: session.userId, username: session.username };
}

/** The pages' view of a client, its redirect URIs included (the consent page's localhost warning). */
function clientView(client: OAuth2ServerClient): ClientView {
  return clientViewOf(client);
}

function formOf(req: Request): Record<string, unknown> {
  return typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
}

function errorPage(code: string, message: string): string {
  const titles: Record<string, string> = {
    invalid_client: 'Unknown application',
    invalid_request: 'This sign-in request cannot be used',
    server_error: 'Something went wrong',
  };
  const page: ErrorPage = { title: titles[code] ?? 'This sign-in request cannot be used', message, code };
  return renderErrorPage(page);
}

function expiredPage(): string {
  return renderErrorPage({
    title: 'This sign-in request has expired',
    message: 'It was already used, or it waited too long. Go back to the application and start again.',
  });
}

function sendPage(res: Response, status: number, body: string): void {
  res.status(status).set(PAGE_HEADERS).send(body);
}

function invalidRedirectPage(): string {
  return errorPage(
    'invalid_request',
    'The redirect_uri is not a valid redirect URI, so the server will not send you there.',
  );
}

/** A 303 to the client, or an error page when the URI cannot be a redirect target (never a 500). */
function redirectToClient(res: Response, redirectUri: string, params: Record<string, string | undefined>): void {
  const location = buildClientRedirect(redirectUri, params);
  if (location === undefined) {
    sendPage(res, 400, invalidRedirectPage());
    return;
  }
  res.status(303).set({ Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).end();
}

import { Router, type Request } from 'express';
import type { ClientRecord } from 'oauth-dcr';
import type { ServerContext } from '../context.js';
import { isAuditEventType, renderAuditPage } from '../pages/admin-audit.js';
import {
  noticeText,
  renderClientDetailPage,
  renderClientListPage,
  renderDeleteConfirmationPage,
} from '../pages/admin-clients.js';
import { renderAdminMessagePage } from '../pages/admin-login.js';
import { renderInitialAccessTokensPage, type InitialAccessTokensPage } from '../pages/admin-tokens.js';
import { formOf, sendAdminPage, type Operator, type OperatorGuard, type OperatorHandler } from './admin-guard.js';

const CLIENTS_PER_PAGE = 50;
const CLIENTS_MAX_PER_PAGE = 500;
const AUDIT_DEFAULT_LIMIT = 100;
const AUDIT_MAX_LIMIT = 1000;
/** Longer than any client_id the library issues or accepts as a URL; longer ones find nothing. */
const MAX_ID_LENGTH = 2048;

/** The operator's pages and actions; every handler runs behind `guard` (routes/admin.ts). */
export function adminPageRoutes(context: ServerContext, guard: OperatorGuard): Router {
  const router = Router();
  const { registration } = context;
  const store = registration.store;
  const base = context.basePath;

  // Clients, in client_id order, a page at a time (keyset: ?after=<last client_id of the page>).
  router.get(
    '/admin',
    ...guard('get', async (req, res, operator) => {
      const after = queryText(req, 'after');
      const perPage = boundedInteger(queryText(req, 'limit'), CLIENTS_PER_PAGE, CLIENTS_MAX_PER_PAGE);
      // One more than a page: whether a next page exists, without counting the table.
      const [page, counts] = await Promise.all([
        store.listClients({ limit: perPage + 1, ...(after ? { after } : {}) }),
        store.countClients(),
      ]);
      const clients = page.slice(0, perPage);
      const last = clients.at(-1);
      const notice = noticeText(req.query.done);
      sendAdminPage(
        res,
        200,
        renderClientListPage({
          frame: operator.frame,
          clients,
          counts,
          perPage,
          paged: after !== undefined,
          ...(page.length > perPage && last ? { nextAfter: last.clientId } : {}),
          ...(notice ? { notice } : {}),
        }),
      );
    }),
  );

  router.get(
    '/admin/clients/:id',
    ...guard('get', async (req, res, operator) => {
      const client = await findClient(req);
      if (!client) {
        sendUnknownClient(res);
        return;
      }
      const events = await store.listAuditEvents({ clientId: client.clientId, limit: 20 });
      const notice = noticeText(req.query.done);
      sendAdminPage(
        res,
        200,
        renderClientDetailPage({ frame: operator.frame, client, events, ...(notice ? { notice } : {}) }),
      );
    }),
  );

  router.get(
    '/admin/clients/:id/delete',
    ...guard('get', async (req, res, operator) => {
      const client = await findClient(req);
      if (!client) {
        sendUnknownClient(res);
        return;
      }
      sendAdminPage(res, 200, renderDeleteConfirmationPage(operator.frame, client));
    }),
  );

  // Disable, enable, delete: through the library, so each is an audit event with the operator as
  // actor, and the server revokes a disabled or deleted client's tokens and codes on that event.
  for (const action of ['disable', 'enable', 'delete'] as const) {
    router.post(
      `/admin/clients/:id/${action}`,
      ...guard('post', async (req, res, operator) => {
        const clientId = idParam(req);
        const done = clientId !== undefined && (await registration.operator[action](clientId, operator.user.username));
        if (!done) {
          sendUnknownClient(res);
          return;
        }
        context.logger.info({ clientId, actor: operator.user.username, action }, 'operator action at /admin');
        const location =
          action === 'delete'
            ? `${base}/admin?done=deleted`
            : `${base}/admin/clients/${encodeURIComponent(clientId)}?done=${action}d`;
        res.status(303).set({ Location: location, 'Cache-Control': 'no-store' }).end();
      }),
    );
  }

  router.get(
    '/admin/audit',
    ...guard('get', async (req, res, operator) => {
      const clientId = queryText(req, 'client');
      const type = queryText(req, 'type');
      const limit = boundedInteger(queryText(req, 'limit'), AUDIT_DEFAULT_LIMIT, AUDIT_MAX_LIMIT);
      const knownType = isAuditEventType(type) ? type : undefined;
      const events =
        type !== undefined && !knownType
          ? []
          : await store.listAuditEvents({
              limit,
              ...(clientId ? { clientId } : {}),
              ...(knownType ? { type: knownType } : {}),
            });
      sendAdminPage(
        res,
        type !== undefined && !knownType ? 400 : 200,
        renderAuditPage({
          frame: operator.frame,
          events,
          limit,
          filters: { ...(clientId ? { clientId } : {}), ...(knownType ? { type: knownType } : {}) },
          ...(type !== undefined && !knownType ? { error: 'There is no event of that type.' } : {}),
        }),
      );
    }),
  );

  router.get(
    '/admin/initial-access-tokens',
    ...guard('get', async (req, res, operator) => {
      const notice = req.query.done === 'revoked' ? 'The token was revoked.' : undefined;
      await sendTokensPage(res, 200, operator, notice ? { notice } : {});
    }),
  );

  // RFC 7591 §3: a new initial access token, shown once in this answer (no-store) and never again.
  router.post(
    '/admin/initial-access-tokens',
    ...guard('post', async (req, res, operator) => {
      const form = formOf(req);
      const label = typeof form.label === 'string' ? form.label.trim().slice(0, 200) : '';
      const uses = positiveInteger(form.uses);
      const hours = positiveInteger(form.expires_in_hours);
      if (uses === 'invalid' || hours === 'invalid') {
        await sendTokensPage(res, 400, operator, {
          error: 'Uses and hours must be whole numbers of at least 1, or empty.',
        });
        return;
      }
      const created = await registration.initialAccessTokens.create({
        ...(label ? { label } : {}),
        ...(uses !== undefined ? { uses } : {}),
        ...(hours !== undefined ? { expiresIn: hours * 3600 } : {}),
      });
      // The record's id, never the token: the log and the trail must not hold it.
      context.logger.info(
        { tokenId: created.record.id, actor: operator.user.username },
        'initial access token created at /admin',
      );
      await sendTokensPage(res, 200, operator, { created });
    }),
  );

  router.post(
    '/admin/initial-access-tokens/:id/revoke',
    ...guard('post', async (req, res, operator) => {
      const id = idParam(req);
      if (id === undefined || !(await registration.initialAccessTokens.revoke(id))) {
        await sendTokensPage(res, 404, operator, { error: 'There is no such usable token.' });
        return;
      }
      context.logger.info({ tokenId: id, actor: operator.user.username }, 'initial access token revoked at /admin');
      res
        .status(303)
        .set({ Location: `${base}/admin/initial-access-tokens?done=revoked`, 'Cache-Control': 'no-store' })
        .end();
    }),
  );

  return router;

  async function sendTokensPage(
    res: Parameters<OperatorHandler>[1],
    status: number,
    operator: Operator,
    extra: Pick<InitialAccessTokensPage, 'created' | 'notice' | 'error'>,
  ): Promise<void> {
    const path = registration.registrationPath === '/' ? '' : registration.registrationPath;
    sendAdminPage(
      res,
      status,
      renderInitialAccessTokensPage({
        frame: operator.frame,
        tokens: await registration.initialAccessTokens.list(),
        now: registration.now(),
        registrationEndpoint: `${context.issuer}${path}`,
        ...extra,
      }),
    );
  }

  async function findClient(req: Request): Promise<ClientRecord | null> {
    const id = idParam(req);
    return id === undefined ? null : store.findClient(id);
  }

  function sendUnknownClient(res: Parameters<OperatorHandler>[1]): void {
    sendAdminPage(res, 404, renderAdminMessagePage('Unknown client', 'There is no client with this client_id.', base));
  }
}

function idParam(req: Request): string | undefined {
  const id = req.params.id;
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH ? id : undefined;
}

function queryText(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH ? value : undefined;
}

/** A page size from the query: the default when absent or not a number, else within 1..max. */
function boundedInteger(value: string | undefined, fallback: number, max: number): number {
  const number = Number(value);
  return value !== undefined && Number.isInteger(number) ? Math.min(Math.max(number, 1), max) : fallback;
}

/** Empty: undefined (no limit); a whole number >= 1 (at most a million); anything else: 'invalid'. */
function positiveInteger(value: unknown): number | undefined | 'invalid' {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d{1,7}$/.test(value.trim())) return 'invalid';
  const number = Number(value.trim());
  return number >= 1 ? number : 'invalid';
}

import { parseClientRight, type ClientRight } from 'oauth-dcr';
import { Router, type Response } from 'express';
import { hashSecret } from 'oauth-dcr';
import type { ServerContext } from '../context.js';
import type { IntrospectionClient } from '../config.js';
import { authenticateWithinLimits, readClientForm } from './client-authentication.js';
import { normalizeResource } from '../resources.js';
import type { TokenRecord } from '../storage/records.js';
import { apiCors, sendJsonError } from './json-errors.js';
import { FORM_BODY } from './token.js';

/**
 * RFC 7662 token introspection, for resource servers that must see revocation at once.
 *
 * Who may ask (§2.1 "the endpoint MUST require some form of authorization"): a confidential
 * client, authenticated with the method it registered, whose client_id the operator listed in
 * DCR_INTROSPECTION_CLIENTS or to which an operator granted the `introspection` right
 * (`oauth-dcr clients create --right introspection`). Anyone else, a self-registered client above
 * all, gets 401 invalid_client (§2.3): it must not learn about other clients' tokens. An entry or
 * right written `client_id=resource|resource` / `introspection=resource|resource` sees only
 * access tokens for those resources. Failed client authentication is counted and limited as at
 * the token endpoint (429 over the limit).
 *
 * The answer (§2.2): for a live token the caller may see, `active: true` with the token's
 * client_id, scope, exp, iat, sub, aud, iss and token_type (the MCP SDK's bearer middleware
 * refuses a token without exp). For anything else (unknown, expired, revoked, issued to a client
 * since deleted, for another resource, or another client's refresh token) exactly
 * `{"active": false}`, so the answer never tells which.
 */
export function introspectionRoutes(context: ServerContext, allowed: readonly IntrospectionClient[]): Router {
  const router = Router();
  const callers = new Map(allowed.map((entry) => [entry.clientId, entry]));

  router.all('/introspect', apiCors);
  router.post('/introspect', FORM_BODY, async (req, res) => {
    const form = readClientForm(req, res);
    if (!form) return;
    const { body, credentials } = form;
    // A public client proves nothing about itself: introspection needs a confidential client.
    if (credentials.kind === 'missing' || credentials.method === 'none') {
      refuseCaller(res, 'Introspection requires client authentication');
      return;
    }
    const client = await authenticateWithinLimits(context, req, res, credentials, 'introspection', (description) =>
      refuseCaller(res, description),
    );
    if (!client) return;
    const caller = callers.get(client.id) ?? (await grantedCaller(context, client.id));
    if (!caller) {
      refuseCaller(res, 'This client is not allowed to introspect tokens');
      return;
    }
    if (typeof body.token !== 'string' || body.token === '') {
      sendJsonError(res, 400, 'invalid_request', 'The token parameter is missing');
      return;
    }
    // §2.1: token_type_hint is only a hint; one look-up by hash finds either kind.
    const record = await context.storage.tokens.findToken(hashSecret(body.token));
    const answer = record ? await describe(context, record, caller) : undefined;
    res
      .status(200)
      .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
      .json(answer ?? { active: false });
  });
  router.all('/introspect', (_req, res) => {
    sendJsonError(res, 405, 'invalid_request', 'Use POST at the introspection endpoint', { Allow: 'POST, OPTIONS' });
  });
  return router;
}

/**
 * The caller as an operator-granted right makes it: `introspection` (every token) or
 * `introspection=resource|resource`, read from the client's stored record (never from anything
 * the client registered: RFC 7591 registration cannot set grantedRights).
 */
async function grantedCaller(context: ServerContext, clientId: string): Promise<IntrospectionClient | undefined> {
  const record = await context.registration.store.findClient(clientId);
  let resources: string[] | undefined;
  for (const written of record?.grantedRights ?? []) {
    // Stored rights were checked when granted; one written by hand that no longer parses grants nothing.
    let right: ClientRight;
    try {
      right = parseClientRight(written);
    } catch {
      continue;
    }
    if (right.name !== 'introspection') continue;
    if (right.resources === undefined) return { clientId };
    resources = [...(resources ?? []), ...right.resources];
  }
  return resources && resources.length > 0 ? { clientId, resources } : undefined;
}

/** §2.3: a caller that failed to authenticate, or may not introspect. */
function refuseCaller(res: Response, description: string): void {
  sendJsonError(res, 401, 'invalid_client', description, { 'WWW-Authenticate': 'Basic realm="oauth-dcr"' });
}

/** The §2.2 answer for a token the caller may see, or undefined for `{"active": false}`. */
async function describe(
  context: ServerContext,
  record: TokenRecord,
  caller: IntrospectionClient,
): Promise<Record<string, unknown> | undefined> {
  if (record.revokedAt !== undefined || record.expiresAt <= Math.floor(Date.now() / 1000)) return undefined;
  // A refresh token is its own client's business alone (RFC 7009 §2.1 applies the same rule).
  if (record.kind === 'refresh' && record.clientId !== caller.clientId) return undefined;
  const audience = record.kind === 'access' ? record.resources?.[0] : undefined;
  if (caller.resources && record.kind === 'access') {
    const wanted = audience === undefined ? undefined : normalizeResource(audience);
    if (!wanted || !caller.resources.some((resource) => normalizeResource(resource) === wanted)) return undefined;
  }
  // A client deleted through RFC 7592 takes its tokens with it, even before their rows go.
  if (!(await context.model.getClient(record.clientId, null))) return undefined;
  return {
    active: true,
    client_id: record.clientId,
    ...(record.scope && record.scope.length > 0 ? { scope: record.scope.join(' ') } : {}),
    exp: record.expiresAt,
    iat: record.createdAt,
    sub: record.userId ?? record.clientId,
    ...(audience ? { aud: audience } : {}),
    iss: context.issuer,
    token_type: record.kind === 'access' ? 'Bearer' : 'refresh_token',
  };
}

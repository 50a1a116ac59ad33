import type { InitialAccessTokenRecord } from 'oauth-dcr';
import { html } from './html.js';
import { adminLayout, formatTime, type AdminFrame } from './admin-layout.js';

export interface InitialAccessTokensPage {
  frame: AdminFrame;
  /** Every token record: never a token or its hash, only what describes it. */
  tokens: readonly InitialAccessTokenRecord[];
  now: number;
  /** The token just created: its only appearance anywhere (the store keeps its hash). */
  created?: { token: string; record: InitialAccessTokenRecord };
  notice?: string;
  error?: string;
  /** Where registration is, for the usage hint. */
  registrationEndpoint: string;
}

/**
 * Initial access tokens (RFC 7591 §3): what admits a client when open registration is off. A new
 * token is shown once, on the answer to the POST that created it (no-store), and never again.
 */
export function renderInitialAccessTokensPage(page: InitialAccessTokensPage): string {
  const { frame, created } = page;
  return adminLayout(
    'Initial access tokens',
    html`<h1>Initial access tokens</h1>
${
  created
    ? html`<div class="secret" role="status">
<p><strong>Copy this token now.</strong> It is shown only this once; the server keeps only its hash.</p>
<p><code id="new-token">${created.token}</code></p>
<p class="muted">Register with <code>Authorization: Bearer &lt;token&gt;</code> on <code>POST ${page.registrationEndpoint}</code>.</p>
</div>`
    : ''
}
${page.notice ? html`<p class="notice" role="status">${page.notice}</p>` : ''}
${page.error ? html`<p class="error" role="alert">${page.error}</p>` : ''}
<h2>Create a token</h2>
<form class="filters" method="post" action="${frame.basePath}/admin/initial-access-tokens">
  <input type="hidden" name="csrf_token" value="${frame.csrfToken}">
  <div><label for="label">Label</label><input type="text" id="label" name="label" maxlength="200"></div>
  <div><label for="uses">Uses (empty: unlimited)</label><input type="text" id="uses" name="uses" inputmode="numeric" size="8"></div>
  <div><label for="expires_in_hours">Expires in hours (empty: never)</label><input type="text" id="expires_in_hours" name="expires_in_hours" inputmode="numeric" size="8"></div>
  <button type="submit" class="primary">Create</button>
</form>
<h2>Tokens</h2>
${
  page.tokens.length === 0
    ? html`<p class="muted">No initial access tokens.</p>`
    : html`<table>
<thead><tr><th>id</th><th>Label</th><th>Created</th><th>Uses left</th><th>Expires</th><th>State</th><th></th></tr></thead>
<tbody>
${[...page.tokens]
  .sort((a, b) => b.createdAt - a.createdAt)
  .map((record) => {
    const state = tokenState(record, page.now);
    return html`<tr data-token-id="${record.id}">
<td class="id">${record.id}</td>
<td>${record.label ?? '—'}</td>
<td>${formatTime(record.createdAt)}</td>
<td>${record.usesRemaining === null ? 'unlimited' : String(record.usesRemaining)}</td>
<td>${record.expiresAt === null ? 'never' : formatTime(record.expiresAt)}</td>
<td>${state}</td>
<td>${
      state === 'usable'
        ? html`<form class="inline" method="post" action="${frame.basePath}/admin/initial-access-tokens/${encodeURIComponent(record.id)}/revoke"><input type="hidden" name="csrf_token" value="${frame.csrfToken}"><button type="submit" class="danger">Revoke</button></form>`
        : ''
    }</td>
</tr>
`;
  })}</tbody>
</table>`
}`,
    frame,
  );
}

function tokenState(record: InitialAccessTokenRecord, now: number): string {
  if (record.revokedAt !== undefined) return 'revoked';
  if (record.expiresAt !== null && now >= record.expiresAt) return 'expired';
  if (record.usesRemaining !== null && record.usesRemaining <= 0) return 'spent';
  return 'usable';
}

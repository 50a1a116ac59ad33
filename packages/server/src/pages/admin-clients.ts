import type { ClientCounts, ClientRecord, StoredAuditEvent } from 'oauth-dcr';
import { html, type SafeHtml } from './html.js';
import { adminLayout, formatTime, type AdminFrame } from './admin-layout.js';
import { auditTable } from './admin-audit.js';
import { describeTrustTier } from './client-view.js';

/** Outcomes of an action, shown once after its 303 (a fixed text per code: nothing is reflected). */
const NOTICES: Record<string, string> = {
  disabled: 'The client was disabled. Its tokens and codes are refused from now on.',
  enabled: 'The client was enabled again.',
  deleted: 'The client was deleted, with its tokens and codes.',
};

export function noticeText(code: unknown): string | undefined {
  return typeof code === 'string' && Object.hasOwn(NOTICES, code) ? NOTICES[code] : undefined;
}

export interface ClientListPage {
  frame: AdminFrame;
  clients: readonly ClientRecord[];
  /** Every stored client, by tier (disabled ones included). */
  counts: ClientCounts;
  /** Clients per page, carried into the next page's link. */
  perPage: number;
  /** The last client_id of this page when another page follows (keyset paging). */
  nextAfter?: string;
  /** Whether this page started after some client_id (then there is a first page to go back to). */
  paged: boolean;
  notice?: string;
}

export function renderClientListPage(page: ClientListPage): string {
  const base = page.frame.basePath;
  return adminLayout(
    'Clients',
    html`<h1>Clients</h1>
<p class="muted" id="client-counts">${page.counts.total} ${page.counts.total === 1 ? 'client' : 'clients'}${tierCounts(page.counts)}</p>
${page.notice ? html`<p class="notice" role="status">${page.notice}</p>` : ''}
<table>
<thead><tr><th>client_id</th><th>Name</th><th>Tier</th><th>Last use</th><th>Redirect hosts</th><th>State</th></tr></thead>
<tbody>
${page.clients.map(
  (client) => html`<tr data-client-id="${client.clientId}">
<td class="id"><a href="${base}/admin/clients/${encodeURIComponent(client.clientId)}">${client.clientId}</a></td>
<td>${clientName(client) ?? html`<span class="muted">(no name)</span>`}</td>
<td>${tierCell(client)}</td>
<td>${client.lastUsedAt === undefined ? html`<span class="muted">never</span>` : formatTime(client.lastUsedAt)}</td>
<td>${redirectHosts(client).map((host) => html`<code>${host}</code> `)}</td>
<td>${stateBadge(client)}</td>
</tr>
`,
)}</tbody>
</table>
${page.clients.length === 0 ? html`<p class="muted">No clients${page.paged ? ' after this point' : ''}.</p>` : ''}
<p>${page.paged ? html`<a href="${base}/admin">First page</a> ` : ''}${
      page.nextAfter
        ? html`<a rel="next" href="${base}/admin?${new URLSearchParams({ after: page.nextAfter, limit: String(page.perPage) }).toString()}">Next page</a>`
        : ''
    }</p>`,
    page.frame,
  );
}

export interface ClientDetailPage {
  frame: AdminFrame;
  client: ClientRecord;
  /** The newest audit events about this client. */
  events: readonly StoredAuditEvent[];
  notice?: string;
}

export function renderClientDetailPage(page: ClientDetailPage): string {
  const { client, frame } = page;
  const base = frame.basePath;
  const action = (name: string, label: string, className = '') =>
    html`<form class="inline" method="post" action="${base}/admin/clients/${encodeURIComponent(client.clientId)}/${name}"><input type="hidden" name="csrf_token" value="${frame.csrfToken}"><button type="submit" name="action" value="${name}" class="${className}">${label}</button></form>`;
  return adminLayout(
    clientName(client) ?? client.clientId,
    html`<h1>${clientName(client) ?? html`<span class="muted">(no name)</span>`} ${stateBadge(client)}</h1>
${page.notice ? html`<p class="notice" role="status">${page.notice}</p>` : ''}
<div class="actions">
${client.disabledAt === undefined ? action('disable', 'Disable') : action('enable', 'Enable')}
<a class="button danger" href="${base}/admin/clients/${encodeURIComponent(client.clientId)}/delete">Delete…</a>
</div>
<dl>
${row('client_id', html`<code>${client.clientId}</code>`)}
${row('Tier', tierCell(client))}
${row('Registered by', client.registeredBy ?? '—')}
${row('Created', formatTime(client.createdAt))}
${row('Updated', formatTime(client.updatedAt))}
${row('Last use', client.lastUsedAt === undefined ? 'never' : formatTime(client.lastUsedAt))}
${row('Disabled', client.disabledAt === undefined ? 'no' : formatTime(client.disabledAt))}
${row('Client secret', client.clientSecretHash ? `yes, expires ${expiry(client.clientSecretExpiresAt)}` : 'none')}
${row('Rights', client.grantedRights?.length ? client.grantedRights.join(', ') : '—')}
</dl>
<h2>Metadata</h2>
<dl>
${shownMetadata(client).map(([name, value]) => row(name, html`<code>${value}</code>`))}
</dl>
<h2>Recent events</h2>
${auditTable(page.events, base)}
<p><a href="${base}/admin/audit?client=${encodeURIComponent(client.clientId)}">The whole audit trail of this client</a></p>`,
    frame,
  );
}

function tierCounts(counts: ClientCounts): string {
  const tiers = Object.entries(counts.byTier).filter(([, count]) => (count ?? 0) > 0);
  return tiers.length === 0 ? '' : `: ${tiers.map(([tier, count]) => `${tier} ${count}`).join(', ')}`;
}

/** Deleting cannot be undone: a GET shows what goes, and only its form's POST deletes. */
export function renderDeleteConfirmationPage(frame: AdminFrame, client: ClientRecord): string {
  const base = frame.basePath;
  const path = `${base}/admin/clients/${encodeURIComponent(client.clientId)}`;
  return adminLayout(
    'Delete client',
    html`<h1>Delete ${clientName(client) ?? client.clientId}?</h1>
<p>The client <code>${client.clientId}</code> (${describeTrustTier(client.registeredVia).label}) is removed for good, with its
tokens and codes. It cannot be enabled again; to stop it for now, disable it instead.</p>
<div class="actions">
<form class="inline" method="post" action="${path}/delete"><input type="hidden" name="csrf_token" value="${frame.csrfToken}"><button type="submit" class="danger">Delete this client</button></form>
<a class="button" href="${path}">Cancel</a>
</div>`,
    frame,
  );
}

function row(name: string, value: SafeHtml | string): SafeHtml {
  return html`<div><dt>${name}</dt><dd>${value}</dd></div>`;
}

function clientName(client: ClientRecord): string | undefined {
  const name = client.metadata.client_name;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

function tierCell(client: ClientRecord): SafeHtml {
  return html`${describeTrustTier(client.registeredVia).label} <span class="muted">(${client.registeredVia})</span>`;
}

function stateBadge(client: ClientRecord): SafeHtml {
  return client.disabledAt === undefined
    ? html`<span class="badge on">enabled</span>`
    : html`<span class="badge off">disabled</span>`;
}

function expiry(expiresAt: number): string {
  return expiresAt === 0 ? 'never' : formatTime(expiresAt);
}

/**
 * Where a client's redirects go, one entry per distinct host: `host:port` for http(s), the scheme
 * and authority for private-use schemes (RFC 8252 §7.1: `cursor://…`, `com.example.app:`).
 */
export function redirectHosts(client: ClientRecord): string[] {
  const uris = Array.isArray(client.metadata.redirect_uris) ? client.metadata.redirect_uris : [];
  const hosts = new Set<string>();
  for (const uri of uris) {
    if (typeof uri !== 'string') continue;
    try {
      const url = new URL(uri);
      if (url.protocol === 'https:' || url.protocol === 'http:') hosts.add(url.host);
      else hosts.add(url.host ? `${url.protocol}//${url.host}` : url.protocol);
    } catch {
      hosts.add('(unparsable)');
    }
  }
  return [...hosts];
}

/**
 * Metadata keys that could carry a credential are never shown, even though registration never
 * stores one in metadata (secrets live only as hashes outside it): a page must not become the
 * place where one leaks.
 */
const HIDDEN_METADATA =
  /^(client_secret|registration_access_token|initial_access_token|software_statement)$|password|_hash$/i;

function shownMetadata(client: ClientRecord): Array<[string, string]> {
  return Object.entries(client.metadata)
    .filter(([name]) => !HIDDEN_METADATA.test(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]);
}

import type { AuditEventType, StoredAuditEvent } from 'oauth-dcr';
import { html, type SafeHtml } from './html.js';
import { adminLayout, formatTime, type AdminFrame } from './admin-layout.js';

/** Every event type the library records (src/store/types.ts AuditEventType), for the filter. */
export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = [
  'client.registered',
  'client.read',
  'client.updated',
  'client.deleted',
  'client.secret_renewed',
  'client.disabled',
  'client.enabled',
  'client.reaped',
  'client.authentication_failed',
  'registration.rejected',
  'token.rejected',
  'request.rate_limited',
  'client_document.fetched',
  'initial_access_token.created',
  'initial_access_token.revoked',
];

export function isAuditEventType(value: unknown): value is AuditEventType {
  return typeof value === 'string' && (AUDIT_EVENT_TYPES as readonly string[]).includes(value);
}

export interface AuditPage {
  frame: AdminFrame;
  events: readonly StoredAuditEvent[];
  filters: { clientId?: string; type?: AuditEventType };
  limit: number;
  /** A filter that could not be used (an unknown type), said in words. */
  error?: string;
}

export function renderAuditPage(page: AuditPage): string {
  const base = page.frame.basePath;
  const { clientId, type } = page.filters;
  return adminLayout(
    'Audit trail',
    html`<h1>Audit trail</h1>
<form class="filters" method="get" action="${base}/admin/audit">
  <div><label for="client">client_id</label><input type="text" id="client" name="client" value="${clientId ?? ''}" size="40"></div>
  <div><label for="type">Event</label><select id="type" name="type">
    <option value="">any</option>
${AUDIT_EVENT_TYPES.map(
  (name) => html`    <option value="${name}"${name === type ? html` selected` : ''}>${name}</option>
`,
)}  </select></div>
  <button type="submit">Show</button>
</form>
${page.error ? html`<p class="error" role="alert">${page.error}</p>` : ''}
<p class="muted">The newest ${page.limit} matching events, newest first. Events are kept while DCR_PERSIST_AUDIT is on (the default), for DCR_AUDIT_RETENTION; they never hold secrets or tokens.</p>
${auditTable(page.events, base)}`,
    page.frame,
  );
}

/** Events newest first; the detail is the library's, already redacted (no secret, token or hash). */
export function auditTable(events: readonly StoredAuditEvent[], basePath: string): SafeHtml {
  if (events.length === 0) return html`<p class="muted">No events.</p>`;
  const newestFirst = [...events].sort((a, b) => b.id - a.id);
  return html`<table>
<thead><tr><th>When (UTC)</th><th>Event</th><th>Client</th><th>Actor</th><th>Address</th><th>Detail</th></tr></thead>
<tbody>
${newestFirst.map(
  (event) => html`<tr>
<td>${formatTime(event.at)}</td>
<td>${event.type}</td>
<td class="id">${
    event.clientId
      ? html`<a href="${basePath}/admin/clients/${encodeURIComponent(event.clientId)}">${event.clientId}</a>`
      : '—'
  }</td>
<td>${event.actor ?? '—'}</td>
<td>${event.ip ?? '—'}</td>
<td>${event.detail && Object.keys(event.detail).length > 0 ? html`<code>${JSON.stringify(event.detail)}</code>` : ''}</td>
</tr>
`,
)}</tbody>
</table>`;
}

import { createHash } from 'node:crypto';
import { html, SafeHtml } from './html.js';
import { PAGE_HEADERS } from './layout.js';

/**
 * The admin pages' frame: wider than the sign-in card (tables of clients and events), with its own
 * inline stylesheet whose hash is the only style the Content-Security-Policy allows.
 */
const ADMIN_STYLES = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6478; --line: #dde1ea; --accent: #2f5bea; --bad: #b42318;
  --warn-bg: #fff6e0; --warn-ink: #7a4b00; --warn-line: #f0cf7a; --ok-bg: #e8f5ec; --ok-ink: #1f6b3a; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f5f9; color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { background: #fff; border-bottom: 1px solid var(--line); }
header div, main { max-width: 1180px; margin: 0 auto; padding: 12px 20px; }
header div { display: flex; gap: 20px; align-items: center; flex-wrap: wrap; }
header .brand { font-weight: 650; margin-right: auto; }
nav a { margin-right: 16px; }
a { color: var(--accent); }
h1 { font-size: 22px; margin: 12px 0; }
h2 { font-size: 17px; margin: 24px 0 8px; }
p { margin: 0 0 12px; overflow-wrap: anywhere; }
.muted { color: var(--muted); font-size: 13px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 20px; max-width: 440px; margin: 8vh auto; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; vertical-align: top; padding: 7px 10px; border-bottom: 1px solid var(--line); font-size: 14px; }
th { background: #f7f8fb; font-size: 13px; color: var(--muted); }
td.id, code { font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
dl { margin: 0; background: #fff; border: 1px solid var(--line); }
dl div { display: flex; gap: 12px; padding: 7px 10px; border-bottom: 1px solid var(--line); }
dt { flex: 0 0 190px; color: var(--muted); font-size: 14px; }
dd { margin: 0; word-break: break-word; }
.badge { font-size: 12px; font-weight: 600; padding: 1px 7px; border-radius: 999px; white-space: nowrap; }
.badge.off { background: #fde8e7; color: var(--bad); }
.badge.on { background: var(--ok-bg); color: var(--ok-ink); }
.notice { background: var(--ok-bg); color: var(--ok-ink); border-radius: 8px; padding: 10px 12px; margin: 12px 0; }
.error { color: var(--bad); }
.secret { background: var(--warn-bg); border: 1px solid var(--warn-line); color: var(--warn-ink); border-radius: 8px; padding: 12px; margin: 12px 0; }
.secret code { font-size: 14px; background: #fff; padding: 2px 6px; }
form.inline { display: inline; }
form.filters, .actions { display: flex; gap: 10px; align-items: end; flex-wrap: wrap; margin: 12px 0; }
label { display: block; font-size: 13px; font-weight: 600; margin: 10px 0 4px; }
input, select { padding: 7px 10px; font: inherit; border: 1px solid #c5cbd8; border-radius: 7px; }
.card input { width: 100%; }
button, a.button { font: inherit; text-decoration: none; display: inline-block; font-weight: 600; padding: 7px 14px; border-radius: 7px; cursor: pointer; border: 1px solid var(--line); background: #fff; color: var(--ink); }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger, a.button.danger { color: var(--bad); border-color: #f1b5b0; }
.card button { width: 100%; margin-top: 16px; }
`;

const ADMIN_STYLE_HASH = `sha256-${createHash('sha256').update(ADMIN_STYLES).digest('base64')}`;

/**
 * PAGE_HEADERS (no scripts, no framing, no-store, no referrer) with this stylesheet's hash, and
 * `form-action 'self'`: unlike the consent form, no admin form ever answers with a redirect to
 * another origin, so a form injected into an admin page could not post anywhere else.
 */
export const ADMIN_PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...PAGE_HEADERS,
  'Content-Security-Policy': `default-src 'none'; style-src '${ADMIN_STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
};

/** Who is signed in, for the header's sign-out form (its CSRF token is the session's). */
export interface AdminFrame {
  basePath: string;
  username: string;
  csrfToken: string;
}

/** A page with the operator's navigation; `frame` absent for the sign-in and refusal pages. */
export function adminLayout(title: string, content: SafeHtml, frame?: AdminFrame): string {
  const base = frame?.basePath ?? '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · oauth-dcr admin</title>
<style>${new SafeHtml(ADMIN_STYLES)}</style>
</head>
<body>
${
  frame
    ? html`<header><div>
<span class="brand">oauth-dcr admin</span>
<nav><a href="${base}/admin">Clients</a><a href="${base}/admin/audit">Audit trail</a><a href="${base}/admin/initial-access-tokens">Initial access tokens</a></nav>
<span class="muted">Signed in as ${frame.username}</span>
${signOutForm(frame)}
</div></header>`
    : ''
}
<main>
${content}
</main>
</body>
</html>
`.value;
}

export function signOutForm(frame: AdminFrame): SafeHtml {
  return html`<form class="inline" method="post" action="${frame.basePath}/admin/logout"><input type="hidden" name="csrf_token" value="${frame.csrfToken}"><button type="submit">Sign out</button></form>`;
}

/** Epoch seconds as an ISO time in UTC (the audit trail's clock), or a dash. */
export function formatTime(epochSeconds: number | undefined | null): string {
  if (epochSeconds === undefined || epochSeconds === null) return '—';
  return new Date(epochSeconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

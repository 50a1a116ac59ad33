import { createHash } from 'node:crypto';
import { html, SafeHtml } from './html.js';

/** The one stylesheet, inline; its hash goes into the Content-Security-Policy so nothing else can run. */
const STYLES = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6478; --line: #dde1ea; --accent: #2f5bea; --accent-ink: #fff;
  --warn-bg: #fff6e0; --warn-ink: #7a4b00; --warn-line: #f0cf7a; --ok-bg: #e8f5ec; --ok-ink: #1f6b3a; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: flex-start; justify-content: center;
  background: #f3f5f9; color: var(--ink); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { width: 100%; max-width: 440px; margin: 8vh 16px 32px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 28px 28px 24px;
  box-shadow: 0 1px 2px rgba(16,24,40,.05), 0 8px 24px rgba(16,24,40,.06); }
.brand { font-size: 13px; font-weight: 600; letter-spacing: .04em; text-transform: uppercase; color: var(--muted); margin: 0 0 16px; }
h1 { font-size: 22px; line-height: 1.3; margin: 0 0 8px; }
p { margin: 0 0 12px; overflow-wrap: anywhere; }
.muted { color: var(--muted); font-size: 14px; }
.app { font-weight: 650; word-break: break-word; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 999px; vertical-align: 2px; }
.badge.unverified { background: var(--warn-bg); color: var(--warn-ink); border: 1px solid var(--warn-line); }
.badge.verified { background: var(--ok-bg); color: var(--ok-ink); }
.website { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 14px; overflow-wrap: anywhere; }
.notice { background: var(--warn-bg); border: 1px solid var(--warn-line); color: var(--warn-ink); border-radius: 8px;
  padding: 10px 12px; font-size: 14px; margin: 12px 0 16px; overflow-wrap: anywhere; }
.error { color: var(--bad); font-size: 14px; margin: 0 0 12px; }
dl { margin: 16px 0; padding: 0; border-top: 1px solid var(--line); }
dl div { display: flex; gap: 12px; padding: 10px 0; border-bottom: 1px solid var(--line); }
dt { flex: 0 0 118px; color: var(--muted); font-size: 14px; }
dd { margin: 0; word-break: break-word; }
ul.scopes { margin: 0; padding-left: 18px; }
.client-id { font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--muted); word-break: break-all; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: #f1f3f8; padding: 1px 5px; border-radius: 4px; }
label { display: block; font-size: 14px; font-weight: 600; margin: 14px 0 6px; }
input[type=text], input[type=password] { width: 100%; padding: 10px 12px; font: inherit; border: 1px solid #c5cbd8; border-radius: 8px; }
input:focus, button:focus { outline: 3px solid rgba(47,91,234,.3); outline-offset: 1px; }
.actions { display: flex; gap: 12px; margin-top: 20px; }
button { flex: 1; font: inherit; font-weight: 600; padding: 10px 16px; border-radius: 8px; cursor: pointer;
  border: 1px solid var(--line); background: #fff; color: var(--ink); }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); }
footer { margin-top: 16px; text-align: center; }
`;

export const STYLE_HASH = `sha256-${createHash('sha256').update(STYLES).digest('base64')}`;

/**
 * Headers for every HTML page: no scripts at all, the one stylesheet, no framing (clickjacking on
 * a consent screen would approve clients for the user), and no caching of forms holding CSRF tokens.
 * There is deliberately no `form-action`: the consent form's answer is a redirect to the client,
 * which browsers check against form-action.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': `default-src 'none'; style-src '${STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'`,
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

export function layout(title: string, content: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${new SafeHtml(STYLES)}</style>
</head>
<body>
<main>
<div class="card">
<p class="brand">oauth-dcr reference server</p>
${content}
</div>
</main>
</body>
</html>
`.value;
}

import { html } from './html.js';
import { layout } from './layout.js';

export interface ErrorPage {
  title: string;
  message: string;
  /** The OAuth error code, shown for developers (RFC 6749 §4.1.2.1 names). */
  code?: string;
}

/**
 * Errors that must not go back to the client: its identity or redirect URI could not be trusted
 * (RFC 6749 §4.1.2.1, RFC 9700 §4.11 open redirectors), or the request itself is unusable.
 */
export function renderErrorPage(page: ErrorPage): string {
  return layout(
    page.title,
    html`
<h1>${page.title}</h1>
<p>${page.message}</p>
${page.code ? html`<p class="muted">Error code: <code>${page.code}</code></p>` : ''}
<p class="muted">You can close this window and return to the application.</p>
`,
  );
}

import { html } from './html.js';
import { adminLayout, signOutForm, type AdminFrame } from './admin-layout.js';

export interface AdminLoginPage {
  basePath: string;
  /** Login-CSRF double-submit token: the same value as the browser's login-CSRF cookie. */
  csrfToken: string;
  username?: string;
  error?: string;
}

/** The operator sign-in form: the same users and password check as the consent login. */
export function renderAdminLoginPage(page: AdminLoginPage): string {
  return adminLayout(
    'Operator sign-in',
    html`<div class="card">
<h1>Operator sign-in</h1>
<p class="muted">The admin pages of this authorization server are for its operators.</p>
${page.error ? html`<p class="error" role="alert">${page.error}</p>` : ''}
<form method="post" action="${page.basePath}/admin/login">
  <input type="hidden" name="csrf_token" value="${page.csrfToken}">
  <label for="username">Username</label>
  <input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${page.username ?? ''}">
  <label for="password">Password</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required>
  <button type="submit" class="primary">Sign in</button>
</form>
</div>`,
  );
}

/** A signed-in user who is not an operator: no data at all, only a way to sign out. */
export function renderAdminForbiddenPage(frame: AdminFrame): string {
  return adminLayout(
    'Not an operator',
    html`<div class="card">
<h1>Not an operator</h1>
<p>You are signed in as <strong>${frame.username}</strong>, which is not an operator of this server.</p>
<p class="muted">Operators are the accounts named in DCR_OPERATORS.</p>
${signOutForm(frame)}
</div>`,
  );
}

/** A refusal or failure that shows nothing of the data: stale form, unknown page, bad input. */
export function renderAdminMessagePage(title: string, message: string, basePath: string): string {
  return adminLayout(
    title,
    html`<div class="card">
<h1>${title}</h1>
<p>${message}</p>
<p><a href="${basePath}/admin">Back to the admin pages</a></p>
</div>`,
  );
}

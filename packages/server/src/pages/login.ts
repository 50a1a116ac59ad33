import { html } from './html.js';
import { layout } from './layout.js';
import { describeTrustTier, type ClientView } from './client-view.js';
import { identifyClient } from './client-identity.js';

export interface LoginPage {
  /** Path prefix of the server as the browser sees it ('' unless the issuer has a path). */
  basePath: string;
  /**
   * The authorization request's parameters, carried in hidden fields instead of server-side
   * state and validated again when the form is posted (see sessions.ts).
   */
  authorizationParameters: Record<string, string>;
  /** Login-CSRF double-submit token: the same value as the browser's login-CSRF cookie. */
  csrfToken: string;
  client: ClientView;
  username?: string;
  error?: string;
}

export function renderLoginPage(page: LoginPage): string {
  const tier = describeTrustTier(page.client.registeredVia);
  const identity = identifyClient(page.client);
  return layout(
    'Sign in',
    html`
<h1>Sign in</h1>
<p class="muted">to continue to <span class="app">${identity.name}</span>
  <span class="badge ${tier.verified ? 'verified' : 'unverified'}">${tier.label}</span>${
    identity.website ? html` <span class="website">${identity.website}</span>` : ''
  }</p>
${page.error ? html`<p class="error" role="alert">${page.error}</p>` : ''}
<form method="post" action="${page.basePath}/authorize/login">
  <input type="hidden" name="csrf_token" value="${page.csrfToken}">
${Object.entries(page.authorizationParameters).map(
  ([name, value]) => html`  <input type="hidden" name="${name}" value="${value}">
`,
)}  <label for="username">Username</label>
  <input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${page.username ?? ''}">
  <label for="password">Password</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required>
  <div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>
`,
  );
}

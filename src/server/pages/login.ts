import { html } from './html.js';
import { layout } from './layout.js';
import { describeTrustTier, displayName, type ClientView } from './client-view.js';

export interface LoginPage {
  /** Path prefix of the server as the browser sees it ('' unless the issuer has a path). */
  basePath: string;
  requestId: string;
  csrfToken: string;
  client: ClientView;
  username?: string;
  error?: string;
}

export function renderLoginPage(page: LoginPage): string {
  const tier = describeTrustTier(page.client.registeredVia);
  return layout('Sign in', html`
<h1>Sign in</h1>
<p class="muted">to continue to <span class="app">${displayName(page.client)}</span>
  <span class="badge ${tier.verified ? 'verified' : 'unverified'}">${tier.label}</span></p>
${page.error ? html`<p class="error" role="alert">${page.error}</p>` : ''}
<form method="post" action="${page.basePath}/authorize/login">
  <input type="hidden" name="csrf_token" value="${page.csrfToken}">
  <input type="hidden" name="request" value="${page.requestId}">
  <label for="username">Username</label>
  <input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${page.username ?? ''}">
  <label for="password">Password</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required>
  <div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>
`);
}

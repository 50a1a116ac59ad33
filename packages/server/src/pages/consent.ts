import { html } from './html.js';
import { layout } from './layout.js';
import { describeRedirectTarget, describeTrustTier, displayName, type ClientView } from './client-view.js';

export interface ConsentPage {
  /** Path prefix of the server as the browser sees it ('' unless the issuer has a path). */
  basePath: string;
  requestId: string;
  csrfToken: string;
  client: ClientView;
  username: string;
  redirectUri: string;
  scopes: string[];
}

export function renderConsentPage(page: ConsentPage): string {
  const tier = describeTrustTier(page.client.registeredVia);
  const name = displayName(page.client);
  return layout(
    `Allow ${name}?`,
    html`
<h1>Allow <span class="app">${name}</span> to access your account?</h1>
<p><span class="badge ${tier.verified ? 'verified' : 'unverified'}">${tier.label}</span></p>
${
  tier.verified
    ? html`<p class="muted">${tier.explanation}</p>`
    : html`<div class="notice" role="note">${tier.explanation}
  Only continue if you started this sign-in from an application you trust.</div>`
}
<dl>
  <div><dt>Account</dt><dd>${page.username}</dd></div>
  <div><dt>Permissions</dt><dd>${
    page.scopes.length > 0
      ? html`<ul class="scopes">${page.scopes.map((scope) => html`<li><code>${scope}</code></li>`)}</ul>`
      : 'No specific permissions: it learns who you are on this server'
  }</dd></div>
  <div><dt>Sends you to</dt><dd>${describeRedirectTarget(page.redirectUri)}</dd></div>
  <div><dt>Client ID</dt><dd class="client-id">${page.client.id}</dd></div>
</dl>
<form method="post" action="${page.basePath}/authorize/decision">
  <input type="hidden" name="csrf_token" value="${page.csrfToken}">
  <input type="hidden" name="request" value="${page.requestId}">
  <div class="actions">
    <button type="submit" name="decision" value="deny">Deny</button>
    <button type="submit" name="decision" value="approve" class="primary">Allow</button>
  </div>
</form>
`,
  );
}

import { html } from './html.js';
import { layout } from './layout.js';
import {
  describeRedirectTarget,
  describeTrustTier,
  redirectsOnlyToThisDevice,
  type ClientView,
} from './client-view.js';
import { identifyClient } from './client-identity.js';

export interface ConsentPage {
  /** Path prefix of the server as the browser sees it ('' unless the issuer has a path). */
  basePath: string;
  requestId: string;
  csrfToken: string;
  client: ClientView;
  username: string;
  redirectUri: string;
  scopes: string[];
  /** RFC 8707 resource indicators the client asks a token for; the user sees what they open. */
  resources?: readonly string[];
}

/**
 * The consent page. Logos are deliberately not shown: a client's logo_uri would be hot-linked
 * from a site it chooses (CIMD §6.7), which tells that site who is signing in and lets it change
 * the picture at will; the page's Content-Security-Policy allows no images anyway.
 */
export function renderConsentPage(page: ConsentPage): string {
  const tier = describeTrustTier(page.client.registeredVia);
  const identity = identifyClient(page.client);
  const resources = page.resources ?? [];
  // MCP security considerations: a document whose redirects all go to localhost can be used by any
  // program on the device, so the website it names proves little; the user is told so.
  const onlyThisDevice =
    identity.website !== undefined && redirectsOnlyToThisDevice(page.client.redirectUris ?? [page.redirectUri]);
  return layout(
    `Allow ${identity.name}?`,
    html`
<h1>Allow <span class="app">${identity.name}</span> to access your account?</h1>
<p><span class="badge ${tier.verified ? 'verified' : 'unverified'}">${tier.label}</span>${
      identity.website ? html` <span class="website">${identity.website}</span>` : ''
    }</p>
${
  identity.lookAlikeName
    ? html`<div class="notice look-alike" role="alert">It calls itself “${identity.lookAlikeName}”, ${
        identity.website
          ? html`but it is identified by ${identity.website}, not by that address.`
          : 'which looks like a web address. Nothing shows that the application belongs to it.'
      }</div>`
    : ''
}
${
  tier.verified
    ? html`<p class="muted">${tier.explanation}</p>`
    : html`<div class="notice" role="note">${tier.explanation}
  Only continue if you started this sign-in from an application you trust.</div>`
}
${
  onlyThisDevice
    ? html`<div class="notice localhost-only" role="alert">It can only send you back to an app on this device (localhost).
  Any program on this device could claim to be ${identity.website}: continue only if you started this sign-in yourself.</div>`
    : ''
}
<dl>
  <div><dt>Account</dt><dd>${page.username}</dd></div>
  ${identity.website ? html`<div><dt>Website</dt><dd class="website">${identity.website}</dd></div>` : ''}
  <div><dt>Permissions</dt><dd>${
    page.scopes.length > 0
      ? html`<ul class="scopes">${page.scopes.map((scope) => html`<li><code>${scope}</code></li>`)}</ul>`
      : 'No specific permissions: it learns who you are on this server'
  }</dd></div>
  ${
    resources.length > 0
      ? html`<div><dt>For use at</dt><dd><ul class="resources">${resources.map(
          (resource) => html`<li><code>${resource}</code></li>`,
        )}</ul></dd></div>`
      : ''
  }
  <div><dt>Sends you to</dt><dd class="redirect-target">${describeRedirectTarget(page.redirectUri)}</dd></div>
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

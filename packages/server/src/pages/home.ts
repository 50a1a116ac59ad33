import { html } from './html.js';
import { layout } from './layout.js';

export function renderHomePage(issuer: string): string {
  const link = (path: string) => html`<code>${issuer}${path}</code>`;
  return layout(
    'oauth-dcr reference server',
    html`
<h1>Authorization server</h1>
<p>Clients register themselves at the registration endpoint (RFC 7591) and then use the usual
OAuth 2.0 authorization code flow with PKCE.</p>
<dl>
  <div><dt>Metadata</dt><dd>${link('/.well-known/oauth-authorization-server')}</dd></div>
  <div><dt>Registration</dt><dd>${link('/register')}</dd></div>
  <div><dt>Resource</dt><dd>${link('/.well-known/oauth-protected-resource')}</dd></div>
</dl>
`,
  );
}

import { CookieJar } from '../../support/oauth-flow.js';

/**
 * The operator's side of the secrets-at-rest journey, through the admin pages: sign-in (its
 * login-CSRF token and cookies), an initial access token created on the page, and a client
 * disabled with the signed-in CSRF token. Each secret seen is handed to `keep`.
 */
export async function operatorJourney(
  url: string,
  operator: { username: string; password: string },
  clientToDisable: string,
  keep: (label: string, value: unknown) => string,
): Promise<void> {
  const jar = new CookieJar();
  const send = async (path: string, form?: Record<string, string>) => {
    const response = await fetch(`${url}${path}`, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form) } : {}),
    });
    jar.store(response);
    const html = await response.text();
    if (response.status >= 400)
      throw new Error(`${form ? 'POST' : 'GET'} ${path}: ${response.status}\n${html.slice(0, 300)}`);
    return html;
  };
  const csrfToken = (html: string, label: string) => keep(label, /name="csrf_token" value="([^"]+)"/.exec(html)?.[1]);

  const signInPage = await send('/admin');
  await send('/admin/login', {
    csrf_token: csrfToken(signInPage, 'admin login-CSRF token'),
    username: operator.username,
    password: operator.password,
  });
  for (const cookie of jar.header().split('; '))
    keep(`admin cookie ${cookie.split('=')[0]}`, cookie.slice(cookie.indexOf('=') + 1));

  const tokensPage = await send('/admin/initial-access-tokens');
  const created = await send('/admin/initial-access-tokens', {
    csrf_token: csrfToken(tokensPage, 'admin CSRF token'),
    uses: '1',
    label: 'from the admin page',
  });
  keep('initial access token (admin page)', /id="new-token">([^<]+)</.exec(created)?.[1]);

  const clientPage = await send(`/admin/clients/${encodeURIComponent(clientToDisable)}`);
  await send(`/admin/clients/${encodeURIComponent(clientToDisable)}/disable`, {
    csrf_token: csrfToken(clientPage, 'admin CSRF token (client page)'),
  });
}

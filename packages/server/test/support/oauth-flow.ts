import { createHash, randomBytes } from 'node:crypto';
import { DEMO_PASSWORD, DEMO_USERNAME } from './reference-server.js';

/**
 * Drives the reference server's login and consent pages the way a browser would, with plain
 * fetch: cookies kept, forms parsed from the HTML and posted back, redirects followed by hand
 * so that the final redirect to the client can be inspected instead of fetched.
 */

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) this.#cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export interface HtmlForm {
  action: string;
  fields: Record<string, string>;
  /** name=value of each submit button. */
  buttons: Array<{ name: string; value: string }>;
  inputTypes: string[];
}

const decodeEntities = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? decodeEntities(match[1]!) : undefined;
}

/** The page's (first) POST form: its action, input values and submit buttons. */
export function parseForm(html: string): HtmlForm {
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form on the page:\n${html.slice(0, 500)}`);
  const action = attribute(form[0].slice(0, form[0].indexOf('>') + 1), 'action') ?? '';
  const fields: Record<string, string> = {};
  const inputTypes: string[] = [];
  for (const input of form[1]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = attribute(input[0], 'name');
    inputTypes.push(attribute(input[0], 'type') ?? 'text');
    if (name) fields[name] = attribute(input[0], 'value') ?? '';
  }
  const buttons: Array<{ name: string; value: string }> = [];
  for (const button of form[1]!.matchAll(/<button\b[^>]*>/gi)) {
    const name = attribute(button[0], 'name');
    if (name) buttons.push({ name, value: attribute(button[0], 'value') ?? '' });
  }
  return { action, fields, buttons, inputTypes };
}

export class BrowserlessUser {
  readonly jar = new CookieJar();
  /** Every page seen, for assertions. */
  readonly pages: Array<{ url: string; status: number; html: string }> = [];

  constructor(
    private readonly username = DEMO_USERNAME,
    private readonly password = DEMO_PASSWORD,
  ) {}

  async get(url: string): Promise<Response> {
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: this.jar.header() } });
    this.jar.store(response);
    return response;
  }

  async post(url: string, fields: Record<string, string>): Promise<Response> {
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    this.jar.store(response);
    return response;
  }

  /**
   * Opens the authorization URL, signs in if asked, answers the consent page, and returns the
   * URL the server redirects the browser to (the client's redirect URI with code or error).
   */
  async authorize(authorizationUrl: string | URL, decision: 'approve' | 'deny' = 'approve'): Promise<URL> {
    let url = String(authorizationUrl);
    let response = await this.get(url);
    for (let step = 0; step < 6; step++) {
      if (response.status === 303 || response.status === 302) {
        const location = new URL(response.headers.get('location')!, url);
        if (location.origin !== new URL(url).origin) return location;
        url = location.href;
        response = await this.get(url);
        continue;
      }
      const html = await response.text();
      this.pages.push({ url, status: response.status, html });
      if (response.status !== 200) throw new Error(`page ${url} answered ${response.status}:\n${html}`);
      const form = parseForm(html);
      const action = new URL(form.action, url).href;
      if (action.endsWith('/authorize/login')) {
        response = await this.post(action, { ...form.fields, username: this.username, password: this.password });
      } else if (action.endsWith('/authorize/decision')) {
        response = await this.post(action, { ...form.fields, decision });
      } else {
        throw new Error(`unexpected form action ${action}`);
      }
      url = action;
    }
    throw new Error('too many steps in the authorization flow');
  }
}

export async function registerClient(baseUrl: string, metadata: Record<string, unknown>): Promise<Record<string, any>> {
  const response = await fetch(`${baseUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  const body = await response.json();
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${JSON.stringify(body)}`);
  return body as Record<string, any>;
}

export async function tokenRequest(
  baseUrl: string,
  params: Record<string, string>,
  basic?: { id: string; secret: string },
): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic)
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}`;
  const response = await fetch(`${baseUrl}/token`, { method: 'POST', headers, body: new URLSearchParams(params) });
  const text = await response.text();
  let body: Record<string, any>;
  try {
    body = JSON.parse(text) as Record<string, any>;
  } catch {
    throw new Error(`token endpoint answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, body, headers: response.headers };
}

/** Authorization URL for a client, with PKCE and state, as a browser would be sent to it. */
export function authorizationUrl(baseUrl: string, params: Record<string, string>): URL {
  const url = new URL(`${baseUrl}/authorize`);
  url.search = new URLSearchParams({ response_type: 'code', ...params }).toString();
  return url;
}

/**
 * The whole authorization code flow for a registered client, through the login and consent pages:
 * resolves the token response, and the code and verifier used.
 */
export async function obtainTokens(
  baseUrl: string,
  client: Record<string, any>,
  options: {
    redirectUri?: string;
    scope?: string /** Ignored: the registered method decides (kept for existing callers). */;
    basic?: boolean;
  } = {},
): Promise<{ code: string; verifier: string; redirectUri: string; tokens: Record<string, any> }> {
  const redirectUri = options.redirectUri ?? (client.redirect_uris as string[])[0]!;
  const { verifier, challenge } = pkcePair();
  const back = await new BrowserlessUser().authorize(
    authorizationUrl(baseUrl, {
      client_id: client.client_id,
      redirect_uri: redirectUri,
      state: 'state-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(options.scope ? { scope: options.scope } : {}),
    }),
  );
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code in ${back.href}`);
  const params: Record<string, string> = {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: redirectUri,
  };
  // The server holds each client to the token_endpoint_auth_method it registered (RFC 7591 §2,
  // default client_secret_basic), so the client authenticates the way it registered.
  const method = client.token_endpoint_auth_method ?? 'client_secret_basic';
  const basic = method === 'client_secret_basic';
  if (method === 'none') params.client_id = client.client_id;
  else if (!basic) Object.assign(params, { client_id: client.client_id, client_secret: client.client_secret });
  const response = await tokenRequest(
    baseUrl,
    params,
    basic ? { id: client.client_id, secret: client.client_secret } : undefined,
  );
  if (response.status !== 200)
    throw new Error(`token exchange failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { code, verifier, redirectUri, tokens: response.body };
}

// Set-up for the token benchmarks, done the way a client and a browser do it, over HTTP: register a
// client, sign in once per browser session, consent, collect authorization codes from the 303s,
// exchange them. Nothing is written to the server's storage behind its back.
import { createHash, randomBytes } from 'node:crypto';

export const BENCH_USER = { username: 'bench', password: 'bench password for the token flows' };
const TIMEOUT = () => AbortSignal.timeout(15_000);

/** What an MCP client sends on first contact (public client, loopback redirect, PKCE). */
export const publicMcpClient = {
  client_name: 'Benchmark MCP Client',
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
};

export async function registerClient(origin, metadata) {
  const response = await fetch(`${origin}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
    signal: TIMEOUT(),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`registration answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

const entities = { '&quot;': '"', '&#39;': "'", '&lt;': '<', '&gt;': '>', '&amp;': '&' };
const decodeEntities = (text) => text.replace(/&(quot|#39|lt|gt|amp);/g, (m) => entities[m]);

/** The first form of a page: its action and its named inputs. */
function readForm(html) {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form on the page: ${html.slice(0, 300)}`);
  const action = /\saction="([^"]*)"/.exec(form[1])?.[1];
  const fields = {};
  for (const [input] of form[2].matchAll(/<input\b[^>]*>/gi)) {
    const name = /\sname="([^"]*)"/.exec(input)?.[1];
    if (name) fields[decodeEntities(name)] = decodeEntities(/\svalue="([^"]*)"/.exec(input)?.[1] ?? '');
  }
  return { action: decodeEntities(action ?? ''), fields };
}

/** One browser: a cookie jar, a sign-in the first time, consent every time. */
export class Browser {
  #cookies = new Map();

  constructor(origin, user = BENCH_USER) {
    this.origin = origin;
    this.user = user;
  }

  get cookieHeader() {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async #fetch(url, init = {}) {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, cookie: this.cookieHeader },
      signal: TIMEOUT(),
    });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0];
      const eq = pair.indexOf('=');
      if (eq > 0) this.#cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return response;
  }

  #post(url, fields) {
    return this.#fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
  }

  /** Follows an authorization request to the client's redirect: resolves that URL. */
  async authorize(params) {
    let url = `${this.origin}/authorize?${new URLSearchParams({ response_type: 'code', ...params })}`;
    let response = await this.#fetch(url);
    for (let step = 0; step < 6; step++) {
      if (response.status === 302 || response.status === 303) {
        const location = new URL(response.headers.get('location'), url);
        if (location.origin !== this.origin) return location;
        url = location.href;
        response = await this.#fetch(url);
        continue;
      }
      const html = await response.text();
      if (response.status !== 200) throw new Error(`${new URL(url).pathname} answered ${response.status}`);
      const form = readForm(html);
      const action = new URL(form.action, url).href;
      if (action.endsWith('/authorize/login')) response = await this.#post(action, { ...form.fields, ...this.user });
      else if (action.endsWith('/authorize/decision'))
        response = await this.#post(action, { ...form.fields, decision: 'approve' });
      else throw new Error(`unexpected form action ${action}`);
      url = action;
    }
    throw new Error('too many steps in the authorization flow');
  }

  /** One authorization code for `client`, with its PKCE verifier. */
  async code(client, resource) {
    const redirectUri = client.redirect_uris[0];
    const { verifier, challenge } = pkcePair();
    const back = await this.authorize({
      client_id: client.client_id,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: randomBytes(8).toString('hex'),
      ...(resource ? { resource } : {}),
    });
    const code = back.searchParams.get('code');
    if (!code) throw new Error(`no code in the redirect: ${back.search.slice(0, 300)}`);
    return { code, verifier, clientId: client.client_id, redirectUri, ...(resource ? { resource } : {}) };
  }
}

/** `count` codes through `sessions` signed-in browsers in parallel (each browser one at a time). */
export async function mintCodes(origin, client, count, { resource, sessions = 8, browsers } = {}) {
  const pool = browsers ?? Array.from({ length: sessions }, () => new Browser(origin));
  const codes = [];
  let left = count;
  await Promise.all(
    pool.map(async (browser) => {
      while (left > 0) {
        left--;
        codes.push(await browser.code(client, resource));
      }
    }),
  );
  return { codes, browsers: pool };
}

export async function tokenRequest(origin, params, basic) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (basic)
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}`;
  const response = await fetch(`${origin}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined)),
    signal: TIMEOUT(),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`/token answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

export function exchangeCode(origin, grant) {
  return tokenRequest(origin, {
    grant_type: 'authorization_code',
    code: grant.code,
    code_verifier: grant.verifier,
    redirect_uri: grant.redirectUri,
    client_id: grant.clientId,
    resource: grant.resource,
  });
}

/** `count` refresh-token chains, each its own grant (its own consent and code exchange). */
export async function mintChains(origin, client, count, { resource, browsers } = {}) {
  const { codes } = await mintCodes(origin, client, count, { resource, browsers });
  const chains = [];
  for (const grant of codes) {
    const tokens = await exchangeCode(origin, grant);
    if (typeof tokens.refresh_token !== 'string') throw new Error('the code exchange issued no refresh_token');
    chains.push({
      clientId: client.client_id,
      refreshToken: tokens.refresh_token,
      ...(resource ? { resource } : {}),
    });
  }
  return chains;
}

/**
 * The resource indicator (RFC 8707) this server accepts for `client`: `wanted` if /authorize takes
 * it, else none (a server that predates resource indicators answers invalid_target).
 */
export async function acceptedResource(browser, client, wanted) {
  if (!wanted) return undefined;
  try {
    await browser.code(client, wanted);
    return wanted;
  } catch (error) {
    if (/invalid_target/.test(error.message)) return undefined;
    throw error;
  }
}

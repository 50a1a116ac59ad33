import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BrowserlessUser, parseForm, pkcePair, registerClient, tokenRequest } from '../../support/oauth-flow.js';
import { operatorJourney } from './operator-journey.js';
import type { ServerData, ServerProcess } from './server-process.js';

/**
 * A full journey through the reference server that hands out every kind of secret it has, each
 * collected with a label: client secrets (and the renewed one), registration access tokens (and
 * the rotated one), an initial access token, an authorization code and its PKCE verifier, access
 * tokens (opaque and RFC 9068 JWT), every refresh token of a rotation, the sign-in session and
 * login-CSRF cookies, the CSRF tokens of the forms, the user's password (and a mistyped one),
 * and the operator's side: admin session cookies, CSRF tokens, an initial access token made on
 * the admin page.
 */

const ADMIN_CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'packages/oauth-dcr/src/cli.ts')];
const REDIRECT_URI = 'http://127.0.0.1:9999/cb';

export interface IssuedSecret {
  label: string;
  value: string;
}

export interface JourneyResult {
  secrets: IssuedSecret[];
  /** A value that is stored in the clear on purpose (a client_id): the search must find it. */
  storedInTheClear: string;
}

/** The library's admin command (oauth-dcr) on the server's data, as an operator runs it. */
export async function adminCommand(data: ServerData, args: string[]): Promise<string> {
  const env: Record<string, string> = data.sqlitePath
    ? { DATABASE_PATH: data.sqlitePath }
    : { DATABASE_URL: data.postgres!.url, DATABASE_SCHEMA: data.postgres!.schema };
  const { stdout } = await promisify(execFile)(process.execPath, [...ADMIN_CLI, ...args], {
    env: { ...process.env, ...env },
  });
  return stdout;
}

/** The settings the journey's server needs: a user whose password the test chose, every grant. */
export function journeySettings(user: { username: string; password: string }): Record<string, string> {
  return {
    DCR_DEMO_USER: `${user.username}:${user.password}`,
    DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
    DCR_PERSIST_AUDIT: 'true',
    DCR_OPERATORS: user.username,
    // Every log line the server can write: a secret in a debug line leaks once an operator turns debugging on.
    LOG_LEVEL: 'trace',
  };
}

export function journeyUser(): { username: string; password: string } {
  return { username: 'journey-user', password: `pw-${randomBytes(12).toString('base64url')}` };
}

function expect<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null || value === '') throw new Error(`the journey got no ${what}`);
  return value;
}

export async function runSecretJourney(
  server: ServerProcess,
  data: ServerData,
  user: { username: string; password: string },
): Promise<JourneyResult> {
  const url = server.url;
  const secrets: IssuedSecret[] = [{ label: 'user password', value: user.password }];
  const keep = (label: string, value: unknown) => {
    secrets.push({ label, value: expect(typeof value === 'string' ? value : undefined, label) });
    return value as string;
  };

  // An initial access token and an introspecting client, from the operator's command line.
  const created = await adminCommand(data, ['iat', 'create', '--uses', '2', '--expires', '1d', '--label', 'journey']);
  const initialAccessToken = keep('initial access token', /shown once, keep it secret\):\n\s+(\S+)/.exec(created)?.[1]);
  const introspector = JSON.parse(
    await adminCommand(data, [
      'clients',
      'create',
      '--name',
      'Resource server',
      '--grant-type',
      'client_credentials',
      '--right',
      'introspection',
      '--json',
    ]),
  );
  keep('introspector client secret', introspector.client_secret);

  // RFC 7591: one open registration, one with the initial access token (§3).
  const app = await registerClient(url, {
    client_name: 'Journey app',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
  });
  keep('client secret', app.client_secret);
  keep('registration access token', app.registration_access_token);
  const gated = await fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${initialAccessToken}` },
    body: JSON.stringify({
      client_name: 'Journey service',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    }),
  });
  const service = (await gated.json()) as Record<string, any>;
  if (gated.status !== 201)
    throw new Error(`registration with the initial access token: ${gated.status} ${JSON.stringify(service)}`);
  keep('client secret (initial access token tier)', service.client_secret);
  keep('registration access token (initial access token tier)', service.registration_access_token);
  const serviceToken = await tokenRequest(url, {
    grant_type: 'client_credentials',
    client_id: service.client_id,
    client_secret: service.client_secret,
  });
  keep('access token (client_credentials, opaque)', serviceToken.body.access_token);

  // Code + PKCE through the sign-in and consent pages, for the server's own resource: the
  // access token is then an RFC 9068 JWT.
  const { verifier, challenge } = pkcePair();
  keep('PKCE verifier', verifier);
  const browser = new BrowserlessUser(user.username, user.password);
  const authorization = new URL(`${url}/authorize`);
  authorization.search = new URLSearchParams({
    response_type: 'code',
    client_id: app.client_id,
    redirect_uri: REDIRECT_URI,
    state: 'journey-state',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: url,
  }).toString();
  const back = await browser.authorize(authorization);
  for (const page of browser.pages)
    keep(`CSRF token of ${new URL(page.url).pathname}`, parseForm(page.html).fields.csrf_token);
  for (const cookie of browser.jar.header().split('; '))
    keep(`cookie ${cookie.split('=')[0]}`, cookie.slice(cookie.indexOf('=') + 1));
  const code = keep('authorization code', back.searchParams.get('code'));
  const basic = (secret: string) => ({ id: app.client_id, secret });
  const exchanged = await tokenRequest(
    url,
    { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI },
    basic(app.client_secret),
  );
  if (exchanged.status !== 200) throw new Error(`code exchange: ${exchanged.status} ${JSON.stringify(exchanged.body)}`);
  const jwt = keep('access token (code, JWT)', exchanged.body.access_token);
  if (jwt.split('.').length !== 3) throw new Error(`a token for a resource should be a JWT (RFC 9068), got ${jwt}`);
  let refreshToken = keep('refresh token 1', exchanged.body.refresh_token);
  for (let rotation = 2; rotation <= 3; rotation++) {
    const refreshed = await tokenRequest(
      url,
      { grant_type: 'refresh_token', refresh_token: refreshToken },
      basic(app.client_secret),
    );
    if (refreshed.status !== 200) throw new Error(`refresh: ${refreshed.status} ${JSON.stringify(refreshed.body)}`);
    keep(`access token (refresh ${rotation})`, refreshed.body.access_token);
    refreshToken = keep(`refresh token ${rotation}`, refreshed.body.refresh_token);
  }

  // RFC 7662: the operator's resource server asks about the last access token.
  const lastAccessToken = secrets.at(-2)!.value;
  const introspected = await fetch(`${url}/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${introspector.client_id}:${introspector.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token: lastAccessToken }),
  });
  const introspection = (await introspected.json()) as Record<string, unknown>;
  if (introspection.active !== true)
    throw new Error(`introspection: ${introspected.status} ${JSON.stringify(introspection)}`);

  // RFC 7592 §2.2 update (the server rotates the registration access token), then a secret renewal.
  const updated = await fetch(app.registration_client_uri, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${app.registration_access_token}` },
    body: JSON.stringify({
      client_id: app.client_id,
      client_name: 'Journey app, renamed',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  });
  const update = (await updated.json()) as Record<string, any>;
  if (updated.status !== 200) throw new Error(`RFC 7592 update: ${updated.status} ${JSON.stringify(update)}`);
  const registrationToken = update.registration_access_token ?? app.registration_access_token;
  keep('registration access token (rotated by the update)', update.registration_access_token);
  const renewed = await fetch(`${app.registration_client_uri}/secret`, {
    method: 'POST',
    headers: { authorization: `Bearer ${registrationToken}` },
  });
  const renewal = (await renewed.json()) as Record<string, any>;
  if (renewed.status !== 200) throw new Error(`secret renewal: ${renewed.status} ${JSON.stringify(renewal)}`);
  const newSecret = keep('client secret (renewed)', renewal.client_secret);

  // The renewed secret at work: one more refresh, then RFC 7009 revocation of both tokens.
  const last = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: refreshToken }, basic(newSecret));
  if (last.status !== 200)
    throw new Error(`refresh with the renewed secret: ${last.status} ${JSON.stringify(last.body)}`);
  keep('access token (refresh 4)', last.body.access_token);
  keep('refresh token 4', last.body.refresh_token);
  for (const token of [last.body.refresh_token, last.body.access_token]) {
    const revoked = await fetch(`${url}/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${app.client_id}:${newSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    });
    if (revoked.status !== 200) throw new Error(`revocation: ${revoked.status} ${await revoked.text()}`);
  }

  // A code issued and never exchanged (it stays stored until it expires), and the service
  // client's own renewal with its registration access token.
  const pending = pkcePair();
  keep('PKCE verifier (pending code)', pending.verifier);
  authorization.searchParams.set('code_challenge', pending.challenge);
  keep('authorization code (never exchanged)', (await browser.authorize(authorization)).searchParams.get('code'));
  const serviceRenewal = await fetch(`${service.registration_client_uri}/secret`, {
    method: 'POST',
    headers: { authorization: `Bearer ${service.registration_access_token}` },
  });
  keep(
    'client secret (initial access token tier, renewed)',
    ((await serviceRenewal.json()) as Record<string, any>).client_secret,
  );

  // The operator at the admin pages: sign-in, an initial access token, a client disabled.
  await operatorJourney(url, user, service.client_id, keep);

  // A password typed wrong at the sign-in page is a secret too (often the right one, mistyped).
  const mistyped = keep('mistyped password', `${user.password}x`);
  await new BrowserlessUser(user.username, mistyped).authorize(authorization).catch(() => undefined);
  return { secrets, storedInTheClear: app.client_id };
}

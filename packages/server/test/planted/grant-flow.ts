import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { requireService } from '../../../oauth-dcr/test/support/services.js';
import { authorizationUrl, BrowserlessUser, pkcePair, tokenRequest } from '../support/oauth-flow.js';

/** A code from the login and consent pages, with the verifier that redeems it and the redirect seen. */
export async function authorizeCode(
  baseUrl: string,
  clientId: string,
  redirectUri: string,
  extra: Record<string, string> = {},
): Promise<{ code: string; verifier: string; back: URL }> {
  const { verifier, challenge } = pkcePair();
  const back = await new BrowserlessUser().authorize(
    authorizationUrl(baseUrl, {
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    }),
  );
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code in ${back.href}`);
  return { code, verifier, back };
}

/** Exchanges a code as a public client (client_id in the body, RFC 6749 §4.1.3). */
export function exchangeCode(
  baseUrl: string,
  clientId: string,
  grant: { code: string; verifier: string },
  redirectUri: string,
) {
  return tokenRequest(baseUrl, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code: grant.code,
    code_verifier: grant.verifier,
    redirect_uri: redirectUri,
  });
}

/** Refreshes as a public client. */
export function refresh(baseUrl: string, clientId: string, refreshToken: string) {
  return tokenRequest(baseUrl, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken });
}

/** A durable store of the reference server, as `startTestServer` options. */
export interface DurableBackend {
  name: string;
  store: 'sqlite';
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** SQLite (a temporary file), and PostgreSQL in a schema of its own when DCR_TEST_POSTGRES_URL is set. */
export function durableBackends(prefix: string): DurableBackend[] {
  const backends: DurableBackend[] = [{ name: 'sqlite', store: 'sqlite', env: {}, cleanup: async () => undefined }];
  const url = requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL);
  if (url) {
    const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
    backends.push({
      name: 'postgres',
      store: 'sqlite',
      env: { DCR_STORE: 'postgres', DATABASE_URL: url, DATABASE_SCHEMA: schema },
      async cleanup() {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`drop schema if exists "${schema}" cascade`);
        } finally {
          await client.end();
        }
      },
    });
  }
  return backends;
}

// The requests each scenario sends, and the set-up each needs (a registered client to read, a
// confidential client to authenticate). Each server is discovered through its RFC 8414 metadata,
// so the baseline and the reference server are driven the same way.

/** What an MCP client (VS Code, Claude, Cursor, the MCP SDK) sends on first contact. */
export function mcpClientMetadata(tokenEndpointAuthMethod) {
  return {
    client_name: 'Benchmark MCP Client',
    client_uri: 'https://client.example.com',
    redirect_uris: ['http://127.0.0.1:33418/callback', 'https://client.example.com/oauth/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: tokenEndpointAuthMethod,
    scope: 'openid profile',
    software_id: 'benchmark-mcp-client',
    software_version: '1.0.0',
  };
}

/** A confidential machine client: client_credentials, authenticated with HTTP Basic (RFC 6749 §2.3.1). */
export const serviceClientMetadata = {
  client_name: 'Benchmark Service Client',
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
};

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

export const SCENARIOS = [
  {
    id: 'register-public',
    title: 'a. Registration, public client (token_endpoint_auth_method none)',
    expectStatus: 201,
    async prepare(endpoints) {
      return {
        url: endpoints.registration,
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(mcpClientMetadata('none')),
      };
    },
  },
  {
    id: 'register-secret-post',
    title: 'a. Registration, confidential client (client_secret_post)',
    expectStatus: 201,
    async prepare(endpoints) {
      return {
        url: endpoints.registration,
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(mcpClientMetadata('client_secret_post')),
      };
    },
  },
  {
    id: 'token-client-credentials',
    title: 'b. Token endpoint, client_credentials with client_secret_basic',
    expectStatus: 200,
    async prepare(endpoints, _origin) {
      const client = await registerOnce(endpoints.registration, serviceClientMetadata);
      const basic = Buffer.from(
        `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`,
      ).toString('base64');
      return {
        url: endpoints.token,
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
          Authorization: `Basic ${basic}`,
        },
        body: 'grant_type=client_credentials',
      };
    },
  },
  {
    id: 'rfc7592-read',
    title: 'd. RFC 7592 read, GET /register/{client_id} with the registration access token',
    expectStatus: 200,
    async prepare(endpoints, origin) {
      const client = await registerOnce(endpoints.registration, mcpClientMetadata('none'));
      if (!client.registration_client_uri || !client.registration_access_token) {
        throw new Error('registration response has no registration_client_uri / registration_access_token');
      }
      // Keep the server's path, but always send the load to this run's 127.0.0.1 origin.
      const path = new URL(client.registration_client_uri).pathname;
      return {
        url: origin + path,
        method: 'GET',
        headers: { Accept: 'application/json', Authorization: `Bearer ${client.registration_access_token}` },
      };
    },
  },
];

async function registerOnce(url, metadata) {
  const response = await fetch(url, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify(metadata),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 201)
    throw new Error(`registration for set-up answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Registration and token endpoints from RFC 8414 metadata, re-rooted on the 127.0.0.1 origin. */
export async function discoverEndpoints(origin) {
  const response = await fetch(`${origin}/.well-known/oauth-authorization-server`, {
    signal: AbortSignal.timeout(10_000),
  });
  const metadata = response.ok ? await response.json() : {};
  const local = (value, fallback) => origin + (value ? new URL(value, origin).pathname : fallback);
  return {
    registration: local(metadata.registration_endpoint, '/register'),
    token: local(metadata.token_endpoint, '/token'),
  };
}

/** One request sent by hand before loading: the scenario must answer what it should, or it is skipped. */
export async function checkRequest(request, expectStatus) {
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== expectStatus) {
    throw new Error(
      `${request.method} ${new URL(request.url).pathname} answered ${response.status}, expected ${expectStatus}: ${text.slice(0, 300)}`,
    );
  }
}

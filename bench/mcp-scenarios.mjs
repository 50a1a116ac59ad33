// The MCP-side flows of bench/token-flows.mjs (issue 9, "Performance"):
//   verify          the example MCP server's protected endpoint vs the same endpoint without auth, same process
//                   (oauth-dcr/mcp's verifier in the SDK's requireBearerAuth): a reused token, as MCP
//                   clients reuse one, and first-seen tokens; also the verifier in introspection mode
//   introspect      RFC 7662 introspection of an access token, against the baselines
//   authorize       /authorize (signed in, up to the consent page) for a Client ID Metadata Document
//                   client whose document is cached vs a DCR client, same server
//   cold-document   64 concurrent authorizations naming a document no one has fetched yet: the
//                   document host must see exactly one fetch
import { mcpClientDocument } from './document-host.mjs';
import { Browser, mintChains, pkcePair, publicMcpClient, registerClient, tokenRequest } from './oauth-setup.mjs';
import { freePort } from './servers.mjs';
import { startResourceServer } from './token-servers.mjs';

const registration = {
  mode: 'static',
  expectStatus: 201,
  request: {
    method: 'POST',
    path: '/register',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(publicMcpClient),
  },
};
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const TOOL_CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'whoami', arguments: {} },
});
const FIRST_SEEN_MAX = Number(process.env.BENCH_FIRST_SEEN_MAX ?? 10_000);

const referenceServers = (context) => context.servers.filter((s) => s.kind === 'reference');

/** One signed-in browser per authorization server, shared by the flows. */
async function browserFor(context, server) {
  context.browsers ??= new Map();
  let browser = context.browsers.get(server);
  if (!browser) {
    browser = new Browser(server.origin);
    context.browsers.set(server, browser);
  }
  return browser;
}

/** `count` access tokens for the MCP resource, refreshing `chains` in parallel. */
async function mintAccessTokens(origin, chains, count) {
  const tokens = [];
  await Promise.all(
    chains.map(async (chain) => {
      while (tokens.length < count) {
        const answer = await tokenRequest(origin, {
          grant_type: 'refresh_token',
          refresh_token: chain.refreshToken,
          client_id: chain.clientId,
          resource: chain.resource,
        });
        chain.refreshToken = answer.refresh_token;
        tokens.push(answer.access_token);
      }
    }),
  );
  return tokens.slice(0, count);
}

async function expectStatus(url, init, status, what) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  if (response.status !== status)
    throw new Error(`${what} answered ${response.status}, expected ${status}: ${text.slice(0, 300)}`);
  return text;
}

const verify = {
  id: 'verify',
  title:
    'Token verification in an MCP server (oauth-dcr/mcp + requireBearerAuth): protected vs the same endpoint without auth',
  needsIntrospection: true,
  referenceSide: (side) => (side.startsWith('plain') ? 'plain-open' : 'mcp-open'),
  async participants(context) {
    // Tokens come from the SQLite server when there is one: its introspection caller is registered.
    const servers = referenceServers(context);
    const issuer = servers.find((s) => s.introspection) ?? servers[0];
    if (!issuer) throw new Error('no reference server');
    const common = { root: context.root, issuer: issuer.origin, resource: context.mcpResource };
    const jwt = await context.startExtra((options) =>
      startResourceServer({ ...common, name: 'mcp-jwt', port: context.mcpPort, options }),
    );
    Object.assign(jwt, { store: 'mcp-jwt', kind: 'resource', issuerServer: issuer });
    const sides = ['mcp-open', 'mcp-reused', 'mcp-first-seen', 'plain-open', 'plain-reused'];
    const participants = sides.map((side) => ({ server: jwt, side, label: side }));
    if (issuer.introspection) {
      const port = await freePort();
      const introspecting = await context.startExtra((options) =>
        startResourceServer({
          ...common,
          name: 'mcp-introspection',
          port,
          introspection: issuer.introspection,
          options,
        }),
      );
      Object.assign(introspecting, { store: 'mcp-introspection', kind: 'resource', issuerServer: issuer });
      participants.push({ server: introspecting, side: 'mcp-introspection', label: 'mcp-introspection' });
    }
    return participants;
  },
  async prepare({ server, side }, context) {
    const issuer = server.issuerServer;
    context.verifyTokens ??= (async () => {
      const client = await registerClient(issuer.origin, publicMcpClient);
      const browser = await browserFor(context, issuer);
      const chains = await mintChains(issuer.origin, client, 8, { resource: context.mcpResource, browsers: [browser] });
      const [token] = await mintAccessTokens(issuer.origin, chains, 1);
      return { chains, token };
    })();
    const { chains, token } = await context.verifyTokens;
    const authorization = `Bearer ${token}`;
    const open = side.endsWith('open');
    const request = side.startsWith('plain')
      ? { method: 'GET', path: open ? '/open/whoami' : '/whoami', headers: { accept: 'application/json' } }
      : { method: 'POST', path: open ? '/open/mcp' : '/mcp', headers: MCP_HEADERS, body: TOOL_CALL };
    if (!open && side !== 'mcp-first-seen') request.headers = { ...request.headers, authorization };
    await expectStatus(
      server.origin + request.path,
      { ...request, headers: { ...request.headers, authorization } },
      200,
      `${side} with a fresh token`,
    );
    return { request, chains, issuer };
  },
  async job({ side }, state, { seconds, estimate }) {
    if (side !== 'mcp-first-seen') return { mode: 'static', expectStatus: 200, request: state.request };
    const count = estimate ? Math.min(FIRST_SEEN_MAX, Math.ceil(estimate * seconds * 2) + 200) : 300;
    const bearers = await mintAccessTokens(state.issuer.origin, state.chains, count);
    return { mode: 'bearers', expectStatus: 200, request: state.request, bearers };
  },
};

const introspect = {
  id: 'introspect',
  title: 'RFC 7662 introspection of an access token by an authorized caller (client_secret_basic)',
  needsIntrospection: true,
  participants: (context) =>
    context.servers
      .filter((s) => s.kind === 'baseline' || s.introspection)
      .map((server) => ({ server, side: null, label: server.store })),
  async prepare({ server }, context) {
    if (server.kind === 'baseline') return { job: registration };
    const client = await registerClient(server.origin, publicMcpClient);
    const browser = await browserFor(context, server);
    const grant = await browser.code(client, context.mcpResource);
    const { access_token: token } = await tokenRequest(server.origin, {
      grant_type: 'authorization_code',
      code: grant.code,
      code_verifier: grant.verifier,
      redirect_uri: grant.redirectUri,
      client_id: grant.clientId,
      resource: grant.resource,
    });
    const { id, secret } = server.introspection;
    const request = {
      method: 'POST',
      path: '/introspect',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    };
    const answer = JSON.parse(await expectStatus(server.origin + request.path, request, 200, 'introspection'));
    if (answer.active !== true)
      throw new Error(`introspection says the token is not active: ${JSON.stringify(answer)}`);
    return { job: { mode: 'static', expectStatus: 200, request } };
  },
  job: (_participant, state) => state.job,
};

/** A signed-in GET /authorize up to the consent page, for `client`. */
function authorizeRequest(client, browser, resource) {
  const { challenge } = pkcePair();
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0],
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'bench',
    resource,
  });
  return { method: 'GET', path: `/authorize?${query}`, headers: { cookie: browser.cookieHeader } };
}

const authorize = {
  id: 'authorize',
  title: '/authorize, signed in, up to the consent page: a CIMD client whose document is cached vs a DCR client',
  needsDocuments: true,
  referenceSide: () => 'dcr',
  participants: (context) =>
    referenceServers(context).flatMap((server) =>
      ['dcr', 'cimd'].map((side) => ({ server, side, label: `${server.store}/${side}` })),
    ),
  async prepare({ server, side }, context) {
    const browser = await browserFor(context, server);
    const client =
      side === 'dcr'
        ? await registerClient(server.origin, publicMcpClient)
        : {
            client_id: context.documents.serveDocument(`/clients/bench-${server.store}.json`, mcpClientDocument),
            redirect_uris: mcpClientDocument.redirect_uris,
          };
    // One whole authorization first: it signs the browser in, and fetches and caches the document.
    await browser.code(client, context.mcpResource);
    const request = authorizeRequest(client, browser, context.mcpResource);
    await expectStatus(server.origin + request.path, request, 200, `/authorize for the ${side} client`);
    return { request };
  },
  job: (_participant, state) => ({ mode: 'static', expectStatus: 200, request: state.request }),
};

const coldDocument = {
  id: 'cold-document',
  title: 'A cold Client ID Metadata Document under 64 concurrent authorizations',
  needsDocuments: true,
  async check(context) {
    const results = [];
    for (const server of referenceServers(context)) {
      const browser = await browserFor(context, server);
      await browser.code(await registerClient(server.origin, publicMcpClient), context.mcpResource); // signs in
      const path = `/clients/cold-${server.store}.json`;
      // The document host answers after 250 ms, so all 64 authorizations arrive while it is cold.
      const url = context.documents.serveDocument(path, mcpClientDocument, { delayMs: 250 });
      const request = authorizeRequest(
        { client_id: url, redirect_uris: mcpClientDocument.redirect_uris },
        browser,
        context.mcpResource,
      );
      const statuses = {};
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          const response = await fetch(server.origin + request.path, {
            headers: request.headers,
            redirect: 'manual',
            signal: AbortSignal.timeout(20_000),
          });
          await response.arrayBuffer();
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        }),
      );
      const fetches = context.documents.hits(path);
      const answers = Object.entries(statuses)
        .map(([status, n]) => `${n} x ${status}`)
        .join(', ');
      console.log(`  ${server.store}: ${fetches} fetch(es) of the document; answers ${answers}`);
      results.push({
        label: `Cold document under 64 concurrent /authorize, ${server.store}: fetches at the document host`,
        kind: 'exact',
        value: fetches,
        bound: 1,
        // Not measured unless every authorization reached the consent page (CIMD on and the document valid).
        met: statuses[200] === 64 ? fetches === 1 : null,
        detail: `answers ${answers}`,
      });
    }
    return results;
  },
};

export const MCP_FLOWS = [verify, introspect, authorize, coldDocument];

// The flows bench/token-flows.mjs measures. The baselines only register (that is all they do), so
// on a baseline every flow sends the same registration; on the reference server each flow sends
// its own requests. Set-up goes through HTTP as a client and a browser would (bench/oauth-setup.mjs).
//
// A flow: participants(context) -> [{ server, side, label }] (default: every server, side null);
//         prepare(participant, context) -> state, once per participant;
//         job(participant, state, { connections, seconds, estimate }) -> the generator's job, per run;
//         settle(state, result) after each run (carry refresh chains forward);
//         referenceSide(side) -> the side of the same server a side's ratio is taken against;
//         or check(context) -> [{ label, kind, value, bound, met, text }] instead of a load.
import {
  Browser,
  acceptedResource,
  mintChains,
  mintCodes,
  publicMcpClient,
  registerClient,
  tokenRequest,
} from './oauth-setup.mjs';

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/** The registration every baseline run sends (and the reference server's in the register flow). */
const registration = {
  mode: 'static',
  expectStatus: 201,
  request: { method: 'POST', path: '/register', headers: JSON_HEADERS, body: JSON.stringify(publicMcpClient) },
};

/** A confidential machine client: client_credentials with HTTP Basic (RFC 6749 §2.3.1, §4.4). */
const serviceClient = {
  client_name: 'Benchmark Service Client',
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
};

const isBaseline = (server) => server.kind === 'baseline';

/** Spare chains beyond the largest connection count, so a chain that dies does not stop a run. */
const SPARE_CHAINS = 4;

export const TOKEN_FLOWS = [
  {
    id: 'register',
    title: 'Registration, public MCP client (the yardstick for the token endpoint tail)',
    async prepare() {
      return {};
    },
    job: () => registration,
  },
  {
    id: 'refresh',
    title: 'Token endpoint: public client refresh with rotation, one chain (grant) per connection',
    async prepare({ server }, { maxConnections }) {
      if (isBaseline(server)) return {};
      const client = await registerClient(server.origin, publicMcpClient);
      const browsers = Array.from({ length: 4 }, () => new Browser(server.origin));
      const resource = await acceptedResource(browsers[0], client, server.mcpResource);
      server.resourceUsed = resource ?? null;
      console.log(`  ${server.store}: tokens ${resource ? `for resource ${resource}` : 'without a resource'}`);
      const chains = await mintChains(server.origin, client, maxConnections + SPARE_CHAINS, { resource, browsers });
      return { client, browsers, resource, chains };
    },
    async job({ server }, state, { connections }) {
      if (isBaseline(server)) return registration;
      // A chain whose refresh failed is dead (its token was rotated out, or its grant revoked).
      state.chains = state.chains.filter((chain) => !chain.dead);
      if (state.chains.length < connections) {
        const more = connections + SPARE_CHAINS - state.chains.length;
        state.chains.push(
          ...(await mintChains(server.origin, state.client, more, {
            resource: state.resource,
            browsers: state.browsers,
          })),
        );
      }
      return { mode: 'refresh', expectStatus: 200, tokenPath: '/token', chains: state.chains.slice(0, connections) };
    },
    settle(state, result) {
      if (result.chains) state.chains.splice(0, result.chains.length, ...result.chains);
    },
  },
  {
    id: 'code',
    title: 'Token endpoint: authorization code exchange with PKCE, public client (codes minted before each run)',
    async prepare({ server }) {
      if (isBaseline(server)) return {};
      const client = await registerClient(server.origin, publicMcpClient);
      const browsers = Array.from({ length: 8 }, () => new Browser(server.origin));
      const resource = await acceptedResource(browsers[0], client, server.mcpResource);
      return { client, browsers, resource };
    },
    async job({ server }, state, { seconds, estimate }) {
      if (isBaseline(server)) return registration;
      // Enough codes for the run at the last rate seen, with a margin; a run that still runs out
      // ends early and reports the rate over the time it ran.
      const count = estimate ? Math.min(40_000, Math.ceil(estimate * seconds * 2) + 300) : 400;
      const { codes } = await mintCodes(server.origin, state.client, count, {
        resource: state.resource,
        browsers: state.browsers,
      });
      return { mode: 'codes', expectStatus: 200, tokenPath: '/token', codes };
    },
  },
  {
    id: 'client-credentials',
    title: 'Token endpoint: client_credentials with client_secret_basic',
    async prepare({ server }) {
      if (isBaseline(server)) return {};
      const client = await registerClient(server.origin, serviceClient);
      const basic = { id: client.client_id, secret: client.client_secret };
      await tokenRequest(server.origin, { grant_type: 'client_credentials' }, basic);
      const authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}`;
      return {
        request: {
          method: 'POST',
          path: '/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization },
          body: 'grant_type=client_credentials',
        },
      };
    },
    job({ server }, state) {
      if (isBaseline(server)) return registration;
      return { mode: 'static', expectStatus: 200, request: state.request };
    },
  },
];

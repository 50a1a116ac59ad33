// The servers bench/token-flows.mjs starts: the two registration baselines from ../shared/bench,
// the reference server with each store, and (for the verification flow) MCP resource servers.
import { join } from 'node:path';
import { BENCH_USER, registerClient } from './oauth-setup.mjs';
import { startServer, stopServer } from './servers.mjs';

/** A confidential client for the introspection caller (RFC 7662 §2.1 needs client authentication). */
const introspectionCaller = {
  client_name: 'Benchmark MCP Server (introspection)',
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
};

export function serverDefinitions({
  root,
  workDir,
  baselinesDir,
  stores,
  mcpResource,
  documents,
  cpuProfile,
  compareRoot,
}) {
  const reference = (store, env, serverRoot = root) => ({
    name: store,
    kind: 'reference',
    args: [
      ...(cpuProfile
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${join(root, 'bench', 'results', 'profiles')}`,
            `--cpu-prof-name=tokens-${store}.cpuprofile`,
          ]
        : []),
      join(serverRoot, 'packages', 'server', 'dist', 'cli.js'),
      'serve',
    ],
    env: {
      DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
      DCR_DEMO_USER: `${BENCH_USER.username}:${BENCH_USER.password}`,
      // The MCP server the tokens are for (RFC 8707).
      DCR_RESOURCES: mcpResource,
      DCR_CODE_TTL: '600',
      // Client ID Metadata Documents from the loopback document host (development settings).
      ...(documents ? { DCR_FETCH_ALLOW: '127.0.0.1,localhost,::1', NODE_EXTRA_CA_CERTS: documents.certFile } : {}),
      ...env,
    },
  });
  const all = {
    'bare-sqlite': {
      name: 'bare-sqlite',
      kind: 'baseline',
      args: (port) => [join(baselinesDir, 'bare-sqlite.mjs'), '--port', String(port), '--db', join(workDir, 'bare.db')],
      env: { BSQLITE_DIR: root },
    },
    bare: {
      name: 'bare',
      kind: 'baseline',
      args: (port) => [join(baselinesDir, 'bare.mjs'), '--port', String(port), '--hash', 'sha256'],
      env: {},
    },
    sqlite: reference('sqlite', { DCR_STORE: 'sqlite', DATABASE_PATH: join(workDir, 'reference.db') }),
    memory: reference('memory', { DCR_STORE: 'memory' }),
  };
  for (const store of stores) if (!all[store]) throw new Error(`BENCH_STORES: unknown store ${store}`);
  const chosen = stores.map((s) => all[s]);
  // BENCH_COMPARE_ROOT: the same stores from another checkout's build, interleaved in the same run.
  if (compareRoot) {
    chosen.push(
      ...stores.map((store) =>
        reference(
          `${store}@compare`,
          { ...all[store].env, ...(store === 'sqlite' ? { DATABASE_PATH: join(workDir, 'compare.db') } : {}) },
          compareRoot,
        ),
      ),
    );
  }
  return [all['bare-sqlite'], all.bare, ...chosen];
}

/**
 * The introspection caller must be listed in DCR_INTROSPECTION_CLIENTS when the server starts,
 * and must be registered first: on SQLite the server is started once to register it (through
 * /register, as anyone would), then stopped; its database keeps the client for the real start.
 * A memory store forgets it, so introspection is measured on SQLite only.
 */
export async function seedIntrospectionCaller(def, options) {
  if (def.env.DCR_STORE !== 'sqlite') return undefined;
  const seed = await startServer({ ...def, name: `${def.name}-seed`, args: def.args.slice(-2), ...options });
  try {
    const client = await registerClient(seed.origin, introspectionCaller);
    def.env.DCR_INTROSPECTION_CLIENTS = client.client_id;
    return { id: client.client_id, secret: client.client_secret };
  } finally {
    await stopServer(seed);
  }
}

/** An MCP resource server (bench/mcp-resource-server.mjs) trusting `issuer`, for `resource`. */
export function startResourceServer({ root, name, issuer, resource, port, introspection, options }) {
  return startServer({
    name,
    args: [join(root, 'bench', 'mcp-resource-server.mjs')],
    env: {
      ISSUER: issuer,
      RESOURCE: resource,
      ...(introspection
        ? {
            BENCH_VERIFY: 'introspection',
            BENCH_INTROSPECTION_CLIENT_ID: introspection.id,
            BENCH_INTROSPECTION_CLIENT_SECRET: introspection.secret,
          }
        : {}),
    },
    readyPath: '/',
    ...(port ? { port } : {}),
    ...options,
  });
}

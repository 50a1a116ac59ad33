/**
 * The SSRF matrix through the reference server's outbound paths, over HTTP: sector_identifier_uri
 * at POST /register, a Client ID Metadata Document at GET /authorize, and a client's jwks_uri at
 * POST /token (private_key_jwt). The server runs as `oauth-dcr-server serve` does in development
 * (DCR_FETCH_ALLOW naming the public stand-in, its CA in NODE_EXTRA_CA_CERTS), with the matrix's
 * test DNS loaded under node:dns (lab-preload.mjs). Every hostile target, directly and behind a
 * redirect: nothing may reach a canary or any private address.
 *
 * Software statements have no trusted issuers in the reference server (no setting configures
 * them), so that path is covered by the library's matrix alone.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import {
  hostileMatrix,
  PUBLIC_STAND_IN,
  viaRedirect,
  type HostileTarget,
} from '../../../oauth-dcr/test/support/ssrf-targets.js';
import { servePathsOfTheMatrix, startLab, type Lab } from '../../../oauth-dcr/test/support/ssrf-lab.js';
import { spawnReferenceServer, type SpawnedServer } from '../support/local-documents.js';

const REDIRECT_URI = 'https://app.example/cb';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let lab: Lab;
let server: SpawnedServer;
let targets: HostileTarget[];
let privateKey: PrivateKey;
let publicJwk: JWK;

before(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  lab = await startLab();
  const matrix = hostileMatrix(lab.port);
  targets = matrix.targets;
  servePathsOfTheMatrix(lab, { keys: [publicJwk] }, REDIRECT_URI);
  const preload = pathToFileURL(new URL('./lab-preload.mjs', import.meta.url).pathname).href;
  server = await spawnReferenceServer(lab.cert, {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`,
    SSRF_TEST_DNS: JSON.stringify(matrix.dns),
    SSRF_LAB_PORT: String(lab.port),
    DCR_FETCH_ALLOW: PUBLIC_STAND_IN,
    DCR_RATE_LIMITS: 'off',
    DCR_ALLOWED_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
  });
});
after(async () => {
  await server?.stop();
  await lab?.close();
});

async function register(body: unknown): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${server.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  // Every answer of /register is JSON, refusals included: a parse failure fails the cell.
  return { status: response.status, body: JSON.parse(text) as Record<string, string> };
}

interface OutboundPath {
  name: string;
  file: string;
  refusal: string;
  otherRefusals: string[];
  followsRedirects: boolean;
  run(url: string): Promise<string>;
}

const PATHS: OutboundPath[] = [
  {
    name: 'sector_identifier_uri at POST /register',
    file: '/sector.json',
    refusal: 'invalid_client_metadata',
    otherRefusals: [],
    followsRedirects: true,
    async run(url) {
      const res = await register({
        redirect_uris: [REDIRECT_URI],
        subject_type: 'pairwise',
        sector_identifier_uri: url,
      });
      return res.status === 201 ? 'ok' : `${res.body.error}`;
    },
  },
  {
    name: 'Client ID Metadata Document at GET /authorize',
    file: '/client.json',
    refusal: 'invalid_client',
    // A client_id with characters RFC 6749 §A.1 does not allow is refused before any lookup.
    otherRefusals: ['invalid_request'],
    followsRedirects: false,
    async run(url) {
      const query = new URLSearchParams({
        client_id: url,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: 's',
      });
      const response = await fetch(`${server.url}/authorize?${query}`, { redirect: 'manual' });
      const page = await response.text();
      // Success is the sign-in page; a refusal is an error page naming the RFC 6749 error code.
      if (response.status === 200) return 'ok';
      return /invalid_client/.test(page)
        ? 'invalid_client'
        : /invalid_request/.test(page)
          ? 'invalid_request'
          : `HTTP ${response.status}`;
    },
  },
  {
    name: 'client jwks_uri at POST /token (private_key_jwt)',
    file: '/jwks.json',
    refusal: 'invalid_client',
    otherRefusals: ['registration invalid_client_metadata'],
    followsRedirects: true,
    async run(url) {
      const res = await register({
        client_name: 'Matrix',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: url,
      });
      if (res.status !== 201) return `registration ${res.body.error}`;
      const id = res.body.client_id!;
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
        .setIssuer(id)
        .setSubject(id)
        .setAudience(server.url)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('2m')
        .sign(privateKey);
      const response = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: JWT_BEARER,
          client_assertion: assertion,
        }),
      });
      const body = JSON.parse(await response.text()) as Record<string, string>;
      return response.status === 200 ? 'ok' : `${body.error}`;
    },
  },
];

/** Sockets the server opened to the lab's port on anything but the public stand-in. */
function strayConnections(): string[] {
  return [...server.output().matchAll(/^ssrf-lab connect (.+)$/gm)]
    .map((m) => m[1]!)
    .filter((d) => d !== `${PUBLIC_STAND_IN}:${lab.port}`);
}

describe('SSRF matrix through the reference server', () => {
  let cells = 0;
  let through = 0;
  after(() => process.stdout.write(`# server SSRF matrix: ${cells} cells, ${through} got through\n`));

  it('the preload reports the server’s connections (so the zeros below prove something)', async () => {
    lab.publicRequests.length = 0;
    const outcome = await PATHS[0]!.run(`https://${PUBLIC_STAND_IN}:${lab.port}/probe/sector.json`);
    assert.equal(outcome, 'ok', 'the public stand-in is reachable through the server');
    assert.equal(lab.publicRequests.length, 1);
    assert.match(server.output(), new RegExp(`ssrf-lab connect ${PUBLIC_STAND_IN.replace(/\./g, '\\.')}:${lab.port}`));
  });

  for (const path of PATHS) {
    it(path.name, async () => {
      const problems: string[] = [];
      const outcomes = new Map<string, number>();
      for (const redirected of [false, true]) {
        for (const [i, target] of targets.entries()) {
          const strayBefore = strayConnections().length;
          const hitsBefore = lab.canaryHits();
          lab.publicRequests.length = 0;
          const file = `/cell${i}${redirected ? 'r' : ''}${path.file}`;
          const direct = target.url(file);
          const url = redirected ? viaRedirect(lab.port, direct, file) : direct;
          const outcome = await path.run(url).catch((error: unknown) => `threw ${String(error)}`);
          cells += 1;
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          const got = lab.canaryHits() - hitsBefore + strayConnections().length - strayBefore;
          through += got;
          const wrong = (why: string) => problems.push(`${redirected ? 'via redirect: ' : ''}${target.name}: ${why}`);
          if (got > 0) wrong(`GOT THROUGH (${strayConnections().slice(strayBefore).join(', ') || 'a canary'})`);
          if (target.reachesPublic && (!redirected || path.followsRedirects)) {
            if (outcome !== 'ok')
              wrong(`the rebinding name should have been fetched from its first answer, got ${outcome}`);
          } else {
            if (outcome !== path.refusal && !path.otherRefusals.includes(outcome)) {
              wrong(`expected ${path.refusal}, got ${outcome}`);
            }
            if (lab.publicRequests.length > (redirected ? 1 : 0)) {
              wrong(`${lab.publicRequests.length} requests reached the public stand-in`);
            }
          }
        }
      }
      const summary = [...outcomes].map(([outcome, n]) => `${outcome} x${n}`).join(', ');
      process.stdout.write(`# ${path.name}: ${targets.length * 2} cells: ${summary}\n`);
      assert.deepEqual(problems, []);
    });
  }

  it('got through: 0', () => {
    assert.ok(cells >= PATHS.length * targets.length * 2, `only ${cells} cells ran`);
    assert.equal(through, 0);
  });
});

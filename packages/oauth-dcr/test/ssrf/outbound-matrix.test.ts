/**
 * The SSRF matrix through every outbound path of the library, end to end through its public
 * surface: (a) a trusted software-statement issuer's jwks_uri, (b) sector_identifier_uri at
 * registration, (c) Client ID Metadata Documents at client lookup, (d) a client's jwks_uri when
 * it authenticates with private_key_jwt. Each path meets every hostile target, directly and
 * behind a redirect from an allowed public host. Nothing may reach a canary or any private
 * address, and each refusal is the path's documented error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { createRegistration, type Registration, type RegistrationOptions } from 'oauth-dcr';
import { memoryStore } from 'oauth-dcr/memory';
import { hostileMatrix, PUBLIC_STAND_IN, viaRedirect, type HostileTarget } from '../support/ssrf-targets.js';
import {
  installTestDns,
  recordConnections,
  servePathsOfTheMatrix,
  startLab,
  type Lab,
  type TestDns,
} from '../support/ssrf-lab.js';

const ISSUER = 'https://as.example.com';
const STATEMENT_ISSUER = 'https://statements.example';
const REDIRECT_URI = 'https://app.example/cb';
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let lab: Lab;
let testDns: TestDns;
let connections: ReturnType<typeof recordConnections>;
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
  testDns = installTestDns(matrix.dns);
  connections = recordConnections();
  servePathsOfTheMatrix(lab, { keys: [publicJwk] }, REDIRECT_URI);
});
after(async () => {
  connections?.stop();
  testDns?.uninstall();
  await lab?.close();
});

/** Production settings, except that the public stand-in is reachable and its CA trusted. */
function registration(options: Partial<RegistrationOptions> = {}): Registration {
  return createRegistration({
    store: memoryStore(),
    issuer: ISSUER,
    onError: () => {},
    rateLimits: false,
    outboundFetch: { allowAddresses: [PUBLIC_STAND_IN], ca: lab.cert, timeoutMs: 2000 },
    ...options,
  });
}

async function post(dcr: Registration, body: unknown): Promise<{ status: number; body: Record<string, string> }> {
  const response = await dcr(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

function sign(claims: Record<string, unknown>, typ?: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 120, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', ...(typ ? { typ } : {}) })
    .sign(privateKey);
}

/** One outbound path: the file it fetches, its documented refusal, and a run that says 'ok' or the error code. */
interface OutboundPath {
  name: string;
  file: string;
  refusal: string;
  /** Other answers that refuse before any fetch (the registration rules, an id that names no document). */
  otherRefusals: string[];
  /** Whether redirects are followed at all (CIMD §4: they are not). */
  followsRedirects: boolean;
  run(url: string): Promise<string>;
}

let jti = 0;
const PATHS: OutboundPath[] = [
  {
    name: '(a) software statement issuer jwks_uri',
    file: '/jwks.json',
    refusal: 'invalid_software_statement',
    otherRefusals: [],
    followsRedirects: true,
    async run(url) {
      const dcr = registration({ softwareStatements: { issuers: [{ issuer: STATEMENT_ISSUER, jwksUri: url }] } });
      const statement = await sign({ iss: STATEMENT_ISSUER, software_id: 'matrix', redirect_uris: [REDIRECT_URI] });
      const res = await post(dcr, { software_statement: statement });
      return res.status === 201 ? 'ok' : (res.body.error ?? `HTTP ${res.status}`);
    },
  },
  {
    name: '(b) sector_identifier_uri',
    file: '/sector.json',
    refusal: 'invalid_client_metadata',
    otherRefusals: [],
    followsRedirects: true,
    async run(url) {
      const res = await post(registration(), {
        redirect_uris: [REDIRECT_URI],
        subject_type: 'pairwise',
        sector_identifier_uri: url,
      });
      return res.status === 201 ? 'ok' : (res.body.error ?? `HTTP ${res.status}`);
    },
  },
  {
    name: '(c) Client ID Metadata Document',
    file: '/client.json',
    refusal: 'invalid_client',
    // An http client_id names no document (CIMD §3): an unknown client, never fetched.
    otherRefusals: ['unknown'],
    followsRedirects: false,
    async run(url) {
      const lookup = await registration({ clientIdMetadataDocuments: { enabled: true } }).lookupClient(url);
      return lookup.kind === 'found' ? 'ok' : lookup.kind === 'refused' ? lookup.error : lookup.kind;
    },
  },
  {
    name: '(d) client jwks_uri for private_key_jwt',
    file: '/jwks.json',
    refusal: 'invalid_client',
    otherRefusals: ['registration invalid_client_metadata'],
    followsRedirects: true,
    async run(url) {
      const dcr = registration({
        tokenEndpointAuthMethods: ['none', 'private_key_jwt'],
        allowedGrantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
      });
      const res = await post(dcr, {
        client_name: 'Matrix',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: url,
      });
      // A URL the registration rules already refuse never reaches the token endpoint.
      if (res.status !== 201) return `registration ${res.body.error ?? res.status}`;
      const client = (await dcr.resolveClient(res.body.client_id!))!;
      const id = client.clientId;
      const assertion = await sign({ iss: id, sub: id, aud: ISSUER, jti: `m${++jti}` }, 'client-authentication+jwt');
      const verdict = await dcr.verifyClientAssertion(assertion, client);
      return verdict.ok ? 'ok' : 'invalid_client';
    },
  },
];

/** Lookups of the rebinding names since the last reset: one, or the socket looked the name up again. */
const rebindLookups = () =>
  [...testDns.lookups].filter(([name]) => name.endsWith('.rebind.test')).reduce((sum, [, n]) => sum + n, 0);

/** Socket destinations other than the public stand-in: each one is a fetch that got through. */
const strayConnections = () => connections.destinations.filter((d) => d !== `${PUBLIC_STAND_IN}:${lab.port}`);

describe('SSRF matrix through every outbound path of the library', () => {
  let cells = 0;
  let through = 0;
  after(() => process.stdout.write(`# library SSRF matrix: ${cells} cells, ${through} got through\n`));

  for (const path of PATHS) {
    it(path.name, async () => {
      const problems: string[] = [];
      const outcomes = new Map<string, number>();
      for (const redirected of [false, true]) {
        for (const [i, target] of targets.entries()) {
          testDns.reset();
          connections.destinations.length = 0;
          lab.publicRequests.length = 0;
          const hitsBefore = lab.canaryHits();
          // A fresh file per cell: no cached document can answer for another cell.
          const file = `/cell${i}${redirected ? 'r' : ''}${path.file}`;
          const direct = target.url(file);
          const url = redirected ? viaRedirect(lab.port, direct, file) : direct;
          const outcome = await path.run(url).catch((error: unknown) => `threw ${String(error)}`);
          cells += 1;
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          const got = lab.canaryHits() - hitsBefore + strayConnections().length;
          through += got;
          const wrong = (why: string) => problems.push(`${redirected ? 'via redirect: ' : ''}${target.name}: ${why}`);
          if (got > 0) wrong(`GOT THROUGH (${strayConnections().join(', ') || 'a canary'})`);
          const fetched = !redirected || path.followsRedirects;
          if (target.reachesPublic && fetched) {
            if (outcome !== 'ok')
              wrong(`the rebinding name should have been fetched from its first answer, got ${outcome}`);
            if (rebindLookups() !== 1) wrong(`rebind.test looked up ${rebindLookups()} times`);
          } else {
            if (outcome !== path.refusal && !path.otherRefusals.includes(outcome)) {
              wrong(`expected ${path.refusal}, got ${outcome}`);
            }
            const publicHits = lab.publicRequests.length;
            if (publicHits > (redirected ? 1 : 0)) wrong(`${publicHits} requests reached the public stand-in`);
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

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { AuditEvent, Registration, RegistrationOptions } from '../../src/index.js';
import { makeRegistration, register, bearer } from '../support/registration.js';

/**
 * `validate()` runs the registration's own sequence: for real clients' payloads (verbatim, from
 * test/fixtures/clients) under several deployments and tiers, what it says a registration would
 * answer and store is what a real registration on the memory store answers and stores, minus what
 * only a real one draws (ids, credentials, timestamps); a refusal is the endpoint's own. And the
 * dry run leaves no trace: no client stored, no event emitted.
 */

const NOW = 1_800_000_000;
const FIXTURES = fileURLToPath(new URL('../fixtures/clients/', import.meta.url));
const fixtures = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((file) => {
    const { body } = JSON.parse(readFileSync(`${FIXTURES}${file}`, 'utf8')) as { body: Record<string, unknown> };
    return { file, body };
  });

/** Members of the client information response that only a real registration draws. */
const DRAWN = [
  'client_id',
  'client_id_issued_at',
  'client_secret',
  'registration_access_token',
  'registration_client_uri',
];

interface Deployment {
  name: string;
  options: Partial<RegistrationOptions>;
  /** Admits a real registration in the tier under test: headers for the request, and validate()'s options. */
  admit?: (dcr: Registration) => Promise<{ headers: Record<string, string>; tier: 'initial_access_token'; by: string }>;
}

const DEPLOYMENTS: Deployment[] = [
  { name: 'the defaults, secrets expiring after an hour', options: { clientSecretTtl: 3600 } },
  {
    // Narrows scopes (with a default for clients asking none of them) and refuses refresh_token.
    name: 'anonymous tier narrowed',
    options: {
      scopesSupported: ['mcp:tools', 'openid', 'claudeai'],
      defaultScope: 'mcp:tools',
      tiers: { anonymous: { allowedGrantTypes: ['authorization_code'], scopesSupported: ['openid'] } },
    },
  },
  {
    name: 'initial access tokens with their own ceilings',
    options: {
      openRegistration: false,
      scopesSupported: ['mcp:tools', 'openid', 'email'],
      tiers: { initial_access_token: { scopesSupported: ['openid', 'email'] } },
    },
    admit: async (dcr) => {
      const { token, record } = await dcr.initialAccessTokens.create({ uses: 1 });
      return { headers: bearer(token), tier: 'initial_access_token', by: record.id };
    },
  },
];

/** A deployment's endpoint, with the events it emits collected. */
function deploy(options: Partial<RegistrationOptions>): { dcr: Registration; events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  const dcr = makeRegistration({ now: () => NOW, onEvent: (event) => events.push(event), ...options });
  return { dcr, events };
}

/** JSON as the wire and the store keep it (no prototypes, no undefined members). */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

/** The dry run, then the real registration: the same outcome, and the dry run left nothing. */
async function assertSameAsRegistration(
  dcr: Registration,
  events: AuditEvent[],
  body: unknown,
  admitted: { headers: Record<string, string>; tier?: 'initial_access_token' | 'software_statement'; by?: string } = {
    headers: {},
  },
): Promise<void> {
  const options = admitted.tier === undefined ? {} : { tier: admitted.tier, registeredBy: admitted.by };
  const before = await dcr.store.countClients();
  const emitted = events.length;
  const result = await dcr.validate(body, options);
  assert.deepEqual(await dcr.store.countClients(), before, 'the dry run stored nothing');
  assert.equal(events.length, emitted, 'the dry run emitted no event');

  const response = await register(dcr, body, admitted.headers);
  if (response.status !== 201) {
    assert.ok(!result.valid, `the endpoint refused (${response.text}), the dry run did not`);
    assert.deepEqual({ error: result.error.error, error_description: result.error.error_description }, response.body);
    assert.equal(result.error.status, response.status);
    return;
  }
  assert.ok(result.valid, `the endpoint registered, the dry run refused: ${JSON.stringify(result)}`);
  const answered = { ...response.body };
  for (const member of DRAWN) delete answered[member];
  assert.deepEqual(plain(result.metadata), answered);

  const stored = await dcr.store.findClient(response.body.client_id);
  assert.ok(stored);
  const expected: Record<string, unknown> = {
    metadata: stored.metadata,
    registeredVia: stored.registeredVia,
    clientSecret: stored.clientSecretHash !== undefined,
    clientSecretExpiresAt: stored.clientSecretExpiresAt,
  };
  if (stored.registeredBy !== undefined) expected.registeredBy = stored.registeredBy;
  assert.deepEqual(plain(result.stored), plain(expected));
  assert.equal(result.tier, stored.registeredVia);
}

describe('validate() answers what a registration answers and stores (real clients)', () => {
  for (const deployment of DEPLOYMENTS) {
    for (const { file, body } of fixtures) {
      it(`${file}, ${deployment.name}`, async () => {
        const { dcr, events } = deploy(deployment.options);
        const admitted = deployment.admit ? await deployment.admit(dcr) : { headers: {} };
        await assertSameAsRegistration(dcr, events, body, admitted);
      });
    }
  }

  it('the cases above cover narrowing, defaults, a refusal and a secret that expires', async () => {
    // Guards the table itself: without these, equality above would prove less than it claims.
    const { dcr } = deploy(DEPLOYMENTS[1]!.options);
    const vscode = fixtures.find((f) => f.file === 'vscode.json')!.body;
    const refused = await dcr.validate(vscode);
    assert.equal(refused.valid, false);
    const narrowed = await dcr.validate({
      ...fixtures.find((f) => f.file === 'mcp-remote.json')!.body,
      grant_types: ['authorization_code'],
    });
    assert.ok(narrowed.valid);
    assert.equal(narrowed.metadata.scope, 'openid');
    assert.deepEqual(
      narrowed.changes.find((change) => change.field === 'scope'),
      {
        field: 'scope',
        from: 'openid email profile',
        to: 'openid',
        reason: 'scope values this tier may not be granted, and repeats, were dropped (RFC 7591 §3.2.1)',
      },
    );
    const expiring = await deploy(DEPLOYMENTS[0]!.options).dcr.validate(
      fixtures.find((f) => f.file === 'claude-ai.json')!.body,
    );
    assert.ok(expiring.valid);
    assert.equal(expiring.stored.clientSecret, true);
    assert.equal(expiring.metadata.client_secret_expires_at, NOW + 3600);
  });
});

describe('validate() and the changes it reports', () => {
  it('reports the dropped extension grant and the inferred application_type (VS Code, Cursor)', async () => {
    const { dcr } = deploy({});
    const vscode = await dcr.validate(fixtures.find((f) => f.file === 'vscode.json')!.body);
    assert.ok(vscode.valid);
    assert.deepEqual(vscode.changes, [
      {
        field: 'grant_types',
        from: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        to: ['authorization_code', 'refresh_token'],
        reason: 'grant types this server does not support were dropped (RFC 7591 §3.2.1)',
      },
    ]);
    const cursor = await dcr.validate(fixtures.find((f) => f.file === 'cursor.json')!.body);
    assert.ok(cursor.valid);
    assert.deepEqual(cursor.changes, [
      {
        field: 'application_type',
        to: 'native',
        reason:
          'not sent: inferred from the redirect URIs, native for loopback or private-use ones (OIDC DCR §2, RFC 8252 §7)',
      },
    ]);
  });

  it('reports defaults, unknown, null and server-assigned members', async () => {
    const { dcr } = deploy({});
    const result = await dcr.validate({
      redirect_uris: ['https://app.example/cb'],
      client_id: 'chosen',
      logo_uri: null,
      favourite_colour: 'blue',
    });
    assert.ok(result.valid);
    assert.deepEqual(
      result.changes.map((change) => [change.field, 'from' in change, 'to' in change]),
      [
        ['client_id', true, false],
        ['logo_uri', true, false],
        ['favourite_colour', true, false],
        ['token_endpoint_auth_method', false, true],
        ['grant_types', false, true],
        ['response_types', false, true],
        ['application_type', false, true],
      ],
    );
    assert.match(result.changes[0]!.reason, /assigned by the server/);
    assert.match(result.changes[1]!.reason, /null means not provided/);
    assert.match(result.changes[2]!.reason, /RFC 7591 §2/);
  });
});

describe('validate() with a software statement (RFC 7591 §2.3)', () => {
  const ISSUER = 'https://registry.example';
  let jwk: JWK;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    sign = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setIssuedAt()
        .sign(pair.privateKey);
  });
  const trusting = () => deploy({ softwareStatements: { issuers: [{ issuer: ISSUER, jwks: { keys: [jwk] } }] } });

  it('verifies it as the endpoint does: its tier, its issuer, its claims over the body, echoed unmodified', async () => {
    const { dcr, events } = trusting();
    const software_statement = await sign({
      software_id: 'registry-app',
      client_name: 'From the statement',
      redirect_uris: ['https://app.example/cb'],
    });
    const body = { client_name: 'From the body', software_statement, token_endpoint_auth_method: 'none' };
    const result = await dcr.validate(body);
    assert.ok(result.valid);
    assert.equal(result.tier, 'software_statement');
    assert.equal(result.stored.registeredBy, ISSUER);
    assert.equal(result.metadata.software_statement, software_statement);
    assert.deepEqual(
      result.changes.find((change) => change.field === 'client_name'),
      {
        field: 'client_name',
        from: 'From the body',
        to: 'From the statement',
        reason: 'a claim of the software statement, which takes precedence over the body (RFC 7591 §2.3)',
      },
    );
    await assertSameAsRegistration(dcr, events, body);
  });

  it("a refusal in the statement's claims points at the statement", async () => {
    const { dcr, events } = trusting();
    const body = {
      software_statement: await sign({ redirect_uris: ['https://app.example/cb', 'http://app.example/cb'] }),
      client_name: 'Body',
    };
    const result = await dcr.validate(body);
    assert.ok(!result.valid);
    assert.equal(result.error.pointer, '/software_statement');
    await assertSameAsRegistration(dcr, events, body);
  });
});

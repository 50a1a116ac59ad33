import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type AuditEvent, type RegistrationOptions, RegistrationError } from '../../src/index.js';
import { makeRegistration, register } from '../support/registration.js';
import { makeCertificate, startServer, type LocalServer, type TestCertificate } from '../net/local-https.js';

/**
 * A refusal from `validate()` is the endpoint's own (code, description, status) with an RFC 6901
 * pointer to the member at fault in the metadata as sent; the dry run stores, counts and emits
 * nothing.
 */

const WEB = ['https://app.example/cb'];

interface RefusalCase {
  name: string;
  /** The request body: an object, or the body's text. */
  body: unknown;
  pointer: string | undefined;
  options?: Partial<RegistrationOptions>;
}

const PRIVATE_JWK = { kty: 'oct', k: 'c2VjcmV0' };

const CASES: RefusalCase[] = [
  {
    name: 'a redirect URI without https',
    body: { redirect_uris: [...WEB, 'http://app.example/cb'] },
    pointer: '/redirect_uris/1',
  },
  { name: 'no redirect URI for the code grant', body: { client_name: 'x' }, pointer: '/redirect_uris' },
  { name: 'redirect_uris not an array', body: { redirect_uris: 'https://app.example/cb' }, pointer: '/redirect_uris' },
  { name: 'a redirect URI that is not a string', body: { redirect_uris: [...WEB, 7] }, pointer: '/redirect_uris/1' },
  {
    name: 'a private-use redirect for a declared web client',
    body: { redirect_uris: [...WEB, 'com.example.app:/cb'], application_type: 'web' },
    pointer: '/redirect_uris/1',
  },
  {
    name: 'an unsupported token_endpoint_auth_method',
    body: { redirect_uris: WEB, token_endpoint_auth_method: 'tls_client_auth' },
    pointer: '/token_endpoint_auth_method',
  },
  {
    name: 'a grant RFC 7591 names, not enabled',
    body: { redirect_uris: WEB, grant_types: ['password'] },
    pointer: '/grant_types',
  },
  {
    name: 'a response type needing a grant not enabled',
    body: { redirect_uris: WEB, response_types: ['token'] },
    pointer: '/response_types',
  },
  {
    name: 'client_credentials for a public client',
    body: { grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'none' },
    pointer: '/grant_types',
    options: { allowedGrantTypes: ['authorization_code', 'client_credentials'] },
  },
  {
    name: 'jwks and jwks_uri together',
    body: { redirect_uris: WEB, jwks: { keys: [] }, jwks_uri: 'https://app.example/jwks' },
    pointer: '/jwks_uri',
  },
  {
    name: 'private key material in jwks',
    body: { redirect_uris: WEB, jwks: { keys: [PRIVATE_JWK] } },
    pointer: '/jwks',
  },
  {
    name: 'a post-logout redirect without https',
    body: { redirect_uris: WEB, post_logout_redirect_uris: [...WEB, 'http://app.example/out'] },
    pointer: '/post_logout_redirect_uris/1',
  },
  {
    name: 'a symmetric signing alg',
    body: { redirect_uris: WEB, token_endpoint_auth_signing_alg: 'HS256' },
    pointer: '/token_endpoint_auth_signing_alg',
  },
  {
    name: 'pairwise over several hosts without a sector',
    body: { redirect_uris: [...WEB, 'https://other.example/cb'], subject_type: 'pairwise' },
    pointer: '/subject_type',
  },
  {
    name: 'a logo_uri that is not http(s)',
    body: { redirect_uris: WEB, logo_uri: 'ftp://app.example/logo.png' },
    pointer: '/logo_uri',
  },
  { name: 'an empty contact', body: { redirect_uris: WEB, contacts: ['a@app.example', ''] }, pointer: '/contacts/1' },
  { name: 'a scope value with a quote', body: { redirect_uris: WEB, scope: 'read "write"' }, pointer: '/scope' },
  {
    // RFC 6901 §3: '/' inside a member name is written ~1, '~' is written ~0.
    name: 'a bad language tag, escaped in the pointer',
    body: { redirect_uris: WEB, 'client_name#e~n/x': 'Name' },
    pointer: '/client_name#e~0n~1x',
  },
  {
    name: 'a malformed software statement',
    body: { redirect_uris: WEB, software_statement: 'not-a-jwt' },
    pointer: '/software_statement',
  },
  {
    name: 'a required statement missing',
    body: { redirect_uris: WEB },
    pointer: '/software_statement',
    options: { softwareStatements: { required: true, issuers: [] } },
  },
  {
    name: 'a loopback redirect for a web client using the implicit grant',
    body: {
      redirect_uris: [...WEB, 'http://127.0.0.1/cb'],
      application_type: 'web',
      grant_types: ['implicit'],
      response_types: ['token'],
    },
    pointer: '/redirect_uris/1',
    options: { allowedGrantTypes: ['authorization_code', 'implicit'] },
  },
  {
    // The SSRF guard refuses loopback: the document cannot be fetched.
    name: 'a sector_identifier_uri that cannot be fetched',
    body: { redirect_uris: WEB, sector_identifier_uri: 'https://127.0.0.1:9/sector.json' },
    pointer: '/sector_identifier_uri',
  },
  // Refusals of the body as a whole point at no member.
  { name: 'a body that is not JSON', body: '{"redirect_uris": [', pointer: undefined },
  { name: 'a body that is an array', body: [WEB], pointer: undefined },
];

function watched(options: Partial<RegistrationOptions> = {}) {
  const events: AuditEvent[] = [];
  const dcr = makeRegistration({ onEvent: (event) => events.push(event), ...options });
  return { dcr, events };
}

describe('validate() refuses as the endpoint does, pointing at the member at fault', () => {
  for (const refusal of CASES) {
    it(refusal.name, async () => {
      const { dcr, events } = watched(refusal.options);
      const result = await dcr.validate(refusal.body);
      assert.ok(!result.valid, JSON.stringify(result));
      assert.equal(result.error.pointer, refusal.pointer);
      assert.equal(events.length, 0, 'no event from a dry run');
      assert.equal((await dcr.store.countClients()).total, 0);

      const response = await register(dcr, refusal.body);
      assert.deepEqual(response.body, { error: result.error.error, error_description: result.error.error_description });
      assert.equal(response.status, result.error.status);
      // The endpoint's refusal is an event; its wire body keeps RFC 7591 §3.2.2's two members.
      assert.equal(events.length, 1);
      assert.equal(events[0]!.type, 'registration.rejected');
      // ... whose detail says where, for the audit trail.
      assert.equal(events[0]!.detail?.pointer, refusal.pointer);
    });
  }

  it('keeps the pointer a validateMetadata hook gives its own refusal', async () => {
    const { dcr } = watched({
      validateMetadata: (metadata) => {
        if (metadata.client_name === 'Forbidden') {
          throw new RegistrationError('invalid_client_metadata', 'That name is taken', { pointer: '/client_name' });
        }
      },
    });
    const result = await dcr.validate({ redirect_uris: WEB, client_name: 'Forbidden' });
    assert.ok(!result.valid);
    assert.deepEqual(result.error, {
      error: 'invalid_client_metadata',
      error_description: 'That name is taken',
      status: 400,
      pointer: '/client_name',
    });
  });
});

describe('validate() on sector_identifier_uri documents (OIDC DCR §5), fetched as at the endpoint', () => {
  const uris = [...WEB, 'https://other.example/cb'];
  let certificate: TestCertificate | undefined;
  let server: LocalServer | undefined;
  before(async () => {
    const made = makeCertificate();
    if ('skip' in made) return;
    certificate = made;
    server = await startServer(certificate, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/partial.json' ? [uris[0]] : { not: 'an array' }));
    });
  });
  after(() => server?.close());

  for (const [document, pointer] of [
    ['partial.json', '/redirect_uris/1'],
    ['object.json', '/sector_identifier_uri'],
  ] as const) {
    it(`${document}: points at ${pointer}, with the endpoint's error`, async (t) => {
      if (!server) return t.skip('openssl unavailable');
      const dcr = makeRegistration({ outboundFetch: { allowAddresses: ['127.0.0.1'], ca: certificate!.cert } });
      const body = { redirect_uris: uris, sector_identifier_uri: `${server.origin}/${document}` };
      const result = await dcr.validate(body);
      assert.ok(!result.valid);
      assert.equal(result.error.pointer, pointer);
      const response = await register(dcr, body);
      assert.deepEqual(response.body, { error: result.error.error, error_description: result.error.error_description });
    });
  }
});

describe('validate() leaves no trace', () => {
  it('runs the validateMetadata hook but never the createClient hook, and stores nothing', async () => {
    const seen: string[] = [];
    const { dcr, events } = watched({
      validateMetadata: (_metadata, context) => {
        seen.push(`validate:${context.registeredVia}`);
      },
      createClient: (record) => {
        seen.push('create');
        return record;
      },
    });
    const result = await dcr.validate({ redirect_uris: WEB }, { tier: 'authenticated', registeredBy: 'alice' });
    assert.ok(result.valid);
    assert.equal(result.stored.registeredBy, 'alice');
    assert.deepEqual(seen, ['validate:authenticated']);
    assert.deepEqual(await dcr.store.countClients(), { total: 0, byTier: {} });
    assert.deepEqual(events, []);
  });

  it('counts no rate limit: after dry runs, a real registration of that software still gets through', async () => {
    const { dcr } = watched({ rateLimits: { perSoftware: { points: 1, duration: 3600 } } });
    const body = { redirect_uris: WEB, software_id: 'limited-app', token_endpoint_auth_method: 'none' };
    for (let i = 0; i < 3; i++) assert.ok((await dcr.validate(body)).valid);
    assert.equal((await register(dcr, body)).status, 201);
    // The limit holds for real registrations: the next one is refused.
    assert.equal((await register(dcr, body)).status, 429);
  });

  it('holds the metadata to the tier asked for, and refuses an unknown tier with a TypeError', async () => {
    const { dcr } = watched({
      tiers: { authenticated: { allowedGrantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] } },
    });
    const service = { grant_types: ['client_credentials'], response_types: [] };
    assert.equal((await dcr.validate(service)).valid, false);
    const admitted = await dcr.validate(service, { tier: 'authenticated' });
    assert.ok(admitted.valid);
    assert.equal(admitted.tier, 'authenticated');
    await assert.rejects(dcr.validate(service, { tier: 'nobody' as 'anonymous' }), TypeError);
    await assert.rejects(dcr.validate(service, { tier: 'metadata_document' }), TypeError);
  });
});

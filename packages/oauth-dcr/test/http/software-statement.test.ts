import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { memoryStore } from '../../src/store/memory.js';
import { makeRegistration, register, mcpClient } from '../support/registration.js';
import { makeCertificate, startServer, type LocalServer, type TestCertificate } from '../net/local-https.js';

const ISSUER = 'https://registry.example';
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let signingKey: PrivateKey;
let publicJwk: JWK;
let otherKey: PrivateKey;

before(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  otherKey = (await generateKeyPair('ES256')).privateKey;
});

async function statement(
  claims: Record<string, unknown>,
  options: { key?: PrivateKey; iss?: string; exp?: string } = {},
) {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuedAt()
    .setIssuer(options.iss ?? ISSUER);
  if (options.exp) jwt.setExpirationTime(options.exp);
  return jwt.sign(options.key ?? signingKey);
}

const trusting = (extra = {}) =>
  makeRegistration({ softwareStatements: { issuers: [{ issuer: ISSUER, jwks: { keys: [publicJwk] } }] }, ...extra });

describe('Software statements (RFC 7591 §2.3)', () => {
  it('verifies a trusted statement; its claims override the body; it is echoed unmodified', async () => {
    const store = memoryStore();
    const dcr = trusting({ store });
    const jwt = await statement({ software_id: 'acme-cli', client_name: 'ACME CLI (verified)' });
    const res = await register(dcr, { ...mcpClient, client_name: 'spoofed name', software_statement: jwt });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.client_name, 'ACME CLI (verified)');
    assert.equal(res.body.software_id, 'acme-cli');
    assert.equal(res.body.software_statement, jwt);
    assert.equal(res.body.iss, undefined, 'JWT claims are not client metadata');
    const stored = (await store.findClient(res.body.client_id))!;
    assert.equal(stored.registeredVia, 'software_statement');
    assert.equal(stored.registeredBy, ISSUER);
  });

  it('accepts a body holding only a statement', async () => {
    const jwt = await statement({ ...mcpClient, client_name: 'Statement only' });
    const res = await register(trusting(), { software_statement: jwt });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.redirect_uris, mcpClient.redirect_uris);
    assert.equal(res.body.client_name, 'Statement only');
  });

  it('still validates the merged metadata', async () => {
    const jwt = await statement({ redirect_uris: ['http://evil.example/cb'] });
    const res = await register(trusting(), { software_statement: jwt });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_redirect_uri');
  });

  it('admits a verified statement when open registration is off', async () => {
    const jwt = await statement({ client_name: 'x' });
    assert.equal(
      (await register(trusting({ openRegistration: false }), { ...mcpClient, software_statement: jwt })).status,
      201,
    );
    assert.equal((await register(trusting({ openRegistration: false }), mcpClient)).status, 401);
  });

  const refused: Array<[string, () => Promise<unknown>, string, RegExp]> = [
    [
      'a bad signature',
      () => statement({ client_name: 'x' }, { key: otherKey }),
      'invalid_software_statement',
      /signature verification failed/,
    ],
    ['a malformed JWT', async () => 'not.a.jwt', 'invalid_software_statement', /well-formed/],
    ['a number', async () => 42, 'invalid_software_statement', /JWT string/],
    [
      'an unsigned JWT',
      async () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER })).toString('base64url')}.`,
      'invalid_software_statement',
      /signed/,
    ],
    [
      'an expired statement',
      () => statement({ client_name: 'x' }, { exp: '-1h' }),
      'invalid_software_statement',
      /expired/,
    ],
    [
      'an untrusted issuer',
      () => statement({ client_name: 'x' }, { iss: 'https://stranger.example' }),
      'unapproved_software_statement',
      /stranger.example/,
    ],
  ];
  for (const [name, make, code, message] of refused) {
    it(`refuses ${name}`, async () => {
      const res = await register(trusting(), { ...mcpClient, software_statement: await make() });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error, code);
      assert.match(res.body.error_description, message);
    });
  }

  it('refuses every well-formed statement as unapproved when no issuer is trusted', async () => {
    const res = await register(makeRegistration(), { ...mcpClient, software_statement: await statement({}) });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error, 'unapproved_software_statement');
    assert.match(res.body.error_description, /registry\.example/);
  });

  // RFC 7591 §3.2.2: "invalid" is about the statement itself, "unapproved" about who issued it;
  // trusting nobody must not turn a malformed statement into an unapproved one.
  const malformed = new Set(['a malformed JWT', 'a number', 'an unsigned JWT']);
  for (const [name, make, , message] of refused.filter(([name]) => malformed.has(name))) {
    it(`refuses ${name} as invalid even when no issuer is trusted`, async () => {
      const res = await register(makeRegistration(), { ...mcpClient, software_statement: await make() });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error, 'invalid_software_statement');
      assert.match(res.body.error_description, message);
    });
  }

  it('refuses a registration without a statement when one is required', async () => {
    const dcr = makeRegistration({
      softwareStatements: { issuers: [{ issuer: ISSUER, jwks: { keys: [publicJwk] } }], required: true },
    });
    const res = await register(dcr, mcpClient);
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_software_statement');
  });
});

describe('Software statement issuer keys from jwks_uri, through safe-fetch', () => {
  let certificate: TestCertificate | undefined;
  let server: LocalServer | undefined;
  let hits = 0;

  before(async () => {
    const made = makeCertificate();
    if ('skip' in made) return;
    certificate = made;
    server = await startServer(certificate, (_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=300' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
  });
  after(() => server?.close());

  it('fetches the keys once and caches them', async (t) => {
    if (!server || !certificate) return t.skip('openssl unavailable');
    const dcr = makeRegistration({
      softwareStatements: { issuers: [{ issuer: ISSUER, jwksUri: `${server.origin}/jwks` }] },
      outboundFetch: { allowAddresses: ['127.0.0.1'], ca: certificate.cert },
    });
    for (let i = 0; i < 2; i++) {
      const res = await register(dcr, { ...mcpClient, software_statement: await statement({ client_name: `c${i}` }) });
      assert.equal(res.status, 201, res.text);
    }
    assert.equal(hits, 1);
  });

  it('refuses to fetch keys from a loopback address without a test allowance', async (t) => {
    if (!server) return t.skip('openssl unavailable');
    const dcr = makeRegistration({
      softwareStatements: { issuers: [{ issuer: ISSUER, jwksUri: `${server.origin}/jwks` }] },
    });
    const res = await register(dcr, { ...mcpClient, software_statement: await statement({}) });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_software_statement');
    assert.match(res.body.error_description, /blocked_address/);
  });
});

/**
 * RFC 7591 §2.3: a software statement is trusted because its issuer signed it. With several
 * trusted issuers, each issuer's keys verify that issuer's statements only: a statement that
 * names issuer B but is signed with issuer A's key is refused (invalid_software_statement), with
 * keys given inline and with keys fetched from each issuer's jwks_uri (through safe-fetch and its
 * cache). Otherwise any one trusted issuer could mint statements in every other issuer's name,
 * and the client would be recorded as admitted by B.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { memoryStore } from '../../src/store/memory.js';
import { makeCertificate, startServer, type LocalServer, type TestCertificate } from '../net/local-https.js';
import { makeRegistration, mcpClient, register } from '../support/registration.js';

const ISSUER_A = 'https://registry-a.example';
const ISSUER_B = 'https://registry-b.example';
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

interface Issuer {
  key: PrivateKey;
  jwk: JWK;
}

let issuerA: Issuer;
let issuerB: Issuer;

async function makeIssuer(kid: string): Promise<Issuer> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { key: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' } };
}

before(async () => {
  // The same kid on both sides: a look-up by kid alone must still not cross issuers.
  issuerA = await makeIssuer('k1');
  issuerB = await makeIssuer('k1');
});

function statement(iss: string, signer: Issuer, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ software_id: `app-of-${new URL(iss).hostname}`, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: signer.jwk.kid! })
    .setIssuer(iss)
    .setIssuedAt()
    .sign(signer.key);
}

function assertRefused(res: { status: number; body: Record<string, any>; text: string }): void {
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body.error, 'invalid_software_statement');
  assert.equal(res.body.client_id, undefined);
}

describe('each trusted issuer verifies only its own statements: keys inline', () => {
  const trustingBoth = () => {
    const store = memoryStore();
    return {
      store,
      dcr: makeRegistration({
        store,
        softwareStatements: {
          issuers: [
            { issuer: ISSUER_A, jwks: { keys: [issuerA.jwk] } },
            { issuer: ISSUER_B, jwks: { keys: [issuerB.jwk] } },
          ],
        },
      }),
    };
  };

  it('accepts each issuer signing its own statement, recorded as admitted by that issuer', async () => {
    const { dcr, store } = trustingBoth();
    for (const [iss, signer] of [
      [ISSUER_A, issuerA],
      [ISSUER_B, issuerB],
    ] as const) {
      const res = await register(dcr, { ...mcpClient, software_statement: await statement(iss, signer) });
      assert.equal(res.status, 201, res.text);
      const stored = await store.findClient(res.body.client_id);
      assert.equal(stored?.registeredBy, iss);
    }
  });

  it("refuses a statement naming issuer B signed with issuer A's key (and the reverse)", async () => {
    const { dcr, store } = trustingBoth();
    assertRefused(await register(dcr, { ...mcpClient, software_statement: await statement(ISSUER_B, issuerA) }));
    assertRefused(await register(dcr, { ...mcpClient, software_statement: await statement(ISSUER_A, issuerB) }));
    assert.equal((await store.listClients()).length, 0);
  });

  it('refuses a statement whose kid is not among its issuer keys, even when another issuer has it', async () => {
    const other = await makeIssuer('only-at-a');
    const dcr = makeRegistration({
      softwareStatements: {
        issuers: [
          { issuer: ISSUER_A, jwks: { keys: [issuerA.jwk, other.jwk] } },
          { issuer: ISSUER_B, jwks: { keys: [issuerB.jwk] } },
        ],
      },
    });
    assertRefused(await register(dcr, { ...mcpClient, software_statement: await statement(ISSUER_B, other) }));
  });

  it('refuses claims nested deeper than any client metadata, with a JSON 400 (never a crash)', async () => {
    let deep: unknown = 'x';
    for (let level = 0; level < 40; level++) deep = { deeper: deep };
    const { dcr } = trustingBoth();
    const res = await register(dcr, {
      ...mcpClient,
      software_statement: await statement(ISSUER_A, issuerA, { jwks: { keys: [deep] } }),
    });
    assertRefused(res);
  });
});

describe('each trusted issuer verifies only its own statements: keys from jwks_uri', () => {
  let certificate: TestCertificate | undefined;
  let server: LocalServer | undefined;
  const fetched: string[] = [];

  before(async () => {
    const made = makeCertificate();
    if ('skip' in made) return;
    certificate = made;
    server = await startServer(certificate, (req, res) => {
      fetched.push(req.url ?? '');
      const keys = req.url === '/a/jwks' ? [issuerA.jwk] : req.url === '/b/jwks' ? [issuerB.jwk] : undefined;
      if (!keys) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=300' });
      res.end(JSON.stringify({ keys }));
    });
  });
  after(() => server?.close());

  const trustingBoth = () =>
    makeRegistration({
      softwareStatements: {
        issuers: [
          { issuer: ISSUER_A, jwksUri: `${server!.origin}/a/jwks` },
          { issuer: ISSUER_B, jwksUri: `${server!.origin}/b/jwks` },
        ],
      },
      outboundFetch: { allowAddresses: ['127.0.0.1'], ca: certificate!.cert },
    });

  it("refuses B's name with A's key, whichever issuer's keys were fetched (and cached) first", async (t) => {
    if (!server || !certificate) return t.skip('openssl unavailable');
    for (const first of [ISSUER_A, ISSUER_B]) {
      const dcr = trustingBoth();
      const [own, forged] =
        first === ISSUER_A
          ? [await statement(ISSUER_A, issuerA), await statement(ISSUER_B, issuerA)]
          : [await statement(ISSUER_B, issuerB), await statement(ISSUER_A, issuerB)];
      const accepted = await register(dcr, { ...mcpClient, software_statement: own });
      assert.equal(accepted.status, 201, accepted.text);
      assertRefused(await register(dcr, { ...mcpClient, software_statement: forged }));
      // The honest statement of the other issuer still passes: its own keys were fetched.
      const otherOwn = first === ISSUER_A ? await statement(ISSUER_B, issuerB) : await statement(ISSUER_A, issuerA);
      assert.equal((await register(dcr, { ...mcpClient, software_statement: otherOwn })).status, 201);
    }
    assert.ok(fetched.includes('/a/jwks') && fetched.includes('/b/jwks'), fetched.join(' '));
  });
});

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import {
  createMemoryReplayGuard,
  createRegistration,
  type ClientAssertionReplayGuard,
  type ClientRecord,
  type Registration,
  type RegistrationOptions,
} from 'oauth-dcr';
import { memoryStore } from 'oauth-dcr/memory';

/**
 * private_key_jwt client assertions (RFC 7523 §3, RFC 10070 §4), verified through
 * `Registration.verifyClientAssertion` against clients registered with inline `jwks`, with real
 * jose-generated keys. Keys fetched from `jwks_uri` are tested over HTTPS in
 * test/http/client-assertion.test.ts.
 */

const ISSUER = 'https://as.example.com';
const TOKEN_ENDPOINT = `${ISSUER}/token`;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let clientKey: PrivateKey;
let clientJwk: JWK;
let otherKey: PrivateKey;
let rsaKey: PrivateKey;
let rsaJwk: JWK;

before(async () => {
  const ec = await generateKeyPair('ES256');
  clientKey = ec.privateKey;
  clientJwk = await exportJWK(ec.publicKey);
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const rsa = await generateKeyPair('RS256');
  rsaKey = rsa.privateKey;
  rsaJwk = await exportJWK(rsa.publicKey);
});

const clock = Math.floor(Date.now() / 1000);

function endpoint(options: Partial<RegistrationOptions> = {}): Registration {
  return createRegistration({
    store: memoryStore(),
    issuer: ISSUER,
    tokenEndpointAuthMethods: ['none', 'client_secret_basic', 'private_key_jwt'],
    now: () => clock,
    onError: () => {},
    ...options,
  });
}

async function registerClient(dcr: Registration, metadata: Record<string, unknown> = {}): Promise<ClientRecord> {
  const response = await dcr(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://app.example/callback'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [clientJwk] },
        ...metadata,
      }),
    }),
  );
  const body = (await response.json()) as { client_id: string };
  assert.equal(response.status, 201, JSON.stringify(body));
  return (await dcr.resolveClient(body.client_id))!;
}

let jtiCounter = 0;

interface AssertionOptions {
  key?: PrivateKey;
  alg?: string;
  header?: Record<string, unknown>;
  claims?: JWTPayload;
}

/** An assertion as RFC 7523 §3 wants it, with `claims` overriding (undefined removes a claim). */
function assertion(client: ClientRecord, options: AssertionOptions = {}): Promise<string> {
  const claims: JWTPayload = {
    iss: client.clientId,
    sub: client.clientId,
    aud: ISSUER,
    iat: clock,
    exp: clock + 120,
    jti: `jti-${++jtiCounter}`,
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'ES256', ...options.header })
    .sign(options.key ?? clientKey);
}

async function refused(dcr: Registration, jwt: string, client: ClientRecord, reason: RegExp): Promise<void> {
  const verdict = await dcr.verifyClientAssertion(jwt, client);
  assert.equal(verdict.ok, false, `expected a refusal matching ${reason}`);
  assert.match((verdict as { description: string }).description, reason);
}

describe('verifyClientAssertion (RFC 7523 §3, RFC 10070 §4)', () => {
  it('accepts an assertion signed by the client’s key, audience the issuer', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    assert.deepEqual(await dcr.verifyClientAssertion(await assertion(client), client), { ok: true });
  });

  it('accepts a one-element aud array, typ JWT or client-authentication+jwt, and no iat', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    const accepted = [
      await assertion(client, { claims: { aud: [ISSUER] } }),
      await assertion(client, { header: { typ: 'JWT' } }),
      await assertion(client, { header: { typ: 'client-authentication+jwt' } }),
      await assertion(client, { claims: { iat: undefined } }),
    ];
    for (const jwt of accepted) assert.deepEqual(await dcr.verifyClientAssertion(jwt, client), { ok: true });
  });

  it('refuses aud = the token endpoint URL (RFC 10070: the issuer only)', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client, { claims: { aud: TOKEN_ENDPOINT } }), client, /aud must be exactly/);
  });

  it('refuses aud = [issuer, another] (the issuer must be the sole audience)', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    const jwt = await assertion(client, { claims: { aud: [ISSUER, 'https://other.example'] } });
    await refused(dcr, jwt, client, /aud must be exactly/);
  });

  it('refuses an assertion without aud', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client, { claims: { aud: undefined } }), client, /aud/);
  });

  it('refuses an expired assertion, beyond the 30 s skew', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    const stale = await assertion(client, { claims: { iat: clock - 100, exp: clock - 31 } });
    await refused(dcr, stale, client, /expired/);
    // Within the skew it still passes: clocks differ a little.
    const recent = await assertion(client, { claims: { iat: clock - 100, exp: clock - 10 } });
    assert.deepEqual(await dcr.verifyClientAssertion(recent, client), { ok: true });
  });

  it('refuses an assertion without exp', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client, { claims: { exp: undefined } }), client, /"exp" claim/);
  });

  it('refuses an assertion that lives longer than 5 minutes by default, or than maxLifetimeSeconds', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client, { claims: { exp: clock + 301 } }), client, /longer than 300 seconds/);
    // Without iat the lifetime counts from now.
    const noIat = await assertion(client, { claims: { iat: undefined, exp: clock + 600 } });
    await refused(dcr, noIat, client, /longer than 300 seconds/);
    assert.deepEqual(
      await dcr.verifyClientAssertion(await assertion(client, { claims: { exp: clock + 300 } }), client),
      {
        ok: true,
      },
    );

    const strict = endpoint({ clientAssertions: { maxLifetimeSeconds: 60 } });
    const strictClient = await registerClient(strict);
    await refused(strict, await assertion(strictClient), strictClient, /longer than 60 seconds/);
  });

  it('refuses an iat in the future', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client, { claims: { iat: clock + 120, exp: clock + 180 } }), client, /iat/);
  });

  it('refuses a replayed jti, and remembers it per client', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    const other = await registerClient(dcr);
    const jwt = await assertion(client, { claims: { jti: 'once' } });
    assert.deepEqual(await dcr.verifyClientAssertion(jwt, client), { ok: true });
    await refused(dcr, jwt, client, /used before/);
    // The same jti from another client is that client's own.
    assert.deepEqual(await dcr.verifyClientAssertion(await assertion(other, { claims: { jti: 'once' } }), other), {
      ok: true,
    });
  });

  it('does not use up a jti with an assertion that fails verification', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client, { key: otherKey, claims: { jti: 'mine' } }), client, /signature/);
    assert.deepEqual(await dcr.verifyClientAssertion(await assertion(client, { claims: { jti: 'mine' } }), client), {
      ok: true,
    });
  });

  it('refuses an assertion without jti', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client, { claims: { jti: undefined } }), client, /"jti" claim/);
  });

  it('refuses HS256 signed with a shared secret, and alg none', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    const secret = new TextEncoder().encode('a shared secret of at least thirty-two bytes');
    const hs256 = await new SignJWT({ iss: client.clientId, sub: client.clientId, aud: ISSUER, jti: 'h', iat: clock })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(clock + 60)
      .sign(secret);
    await refused(dcr, hs256, client, /alg HS256 is not accepted/);
    const unsigned = new UnsecuredJWT({ iss: client.clientId, sub: client.clientId, aud: ISSUER, jti: 'n', iat: clock })
      .setExpirationTime(clock + 60)
      .encode();
    await refused(dcr, unsigned, client, /alg none is not accepted/);
  });

  it('refuses an assertion signed by another key', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client, { key: otherKey }), client, /signature does not verify/);
  });

  it('refuses iss or sub other than the client_id', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client, { claims: { iss: 'someone-else' } }), client, /"iss" claim/);
    await refused(dcr, await assertion(client, { claims: { sub: 'someone-else' } }), client, /"sub" claim/);
  });

  it('holds the client to its registered token_endpoint_auth_signing_alg', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr, {
      jwks: { keys: [clientJwk, rsaJwk] },
      token_endpoint_auth_signing_alg: 'RS256',
    });
    await refused(dcr, await assertion(client), client, /registered token_endpoint_auth_signing_alg RS256/);
    assert.deepEqual(await dcr.verifyClientAssertion(await assertion(client, { alg: 'RS256', key: rsaKey }), client), {
      ok: true,
    });
  });

  it('tries every key that matches an assertion without kid', async () => {
    const dcr = endpoint();
    const second = await generateKeyPair('ES256');
    const client = await registerClient(dcr, { jwks: { keys: [clientJwk, await exportJWK(second.publicKey)] } });
    assert.deepEqual(await dcr.verifyClientAssertion(await assertion(client, { key: second.privateKey }), client), {
      ok: true,
    });
    await refused(dcr, await assertion(client, { key: otherKey }), client, /signature does not verify/);
  });

  it('refuses a JWT typed as something else (an access token)', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client, { header: { typ: 'at+jwt' } }), client, /typ at\+jwt/);
  });

  it('refuses a client that registered another method, and every client while private_key_jwt is off', async () => {
    const store = memoryStore();
    const dcr = endpoint({ store });
    const secretClient = await registerClient(dcr, { token_endpoint_auth_method: 'client_secret_basic' });
    await refused(dcr, await assertion(secretClient), secretClient, /registered token_endpoint_auth_method/);

    const keyClient = await registerClient(dcr);
    const narrowed = endpoint({ store, tokenEndpointAuthMethods: ['none', 'client_secret_basic'] });
    await refused(narrowed, await assertion(keyClient), keyClient, /not enabled/);
  });

  it('refuses garbage', async () => {
    const dcr = endpoint();
    const client = await registerClient(dcr);
    await refused(dcr, 'not-a-jwt', client, /not a well-formed JWT/);
  });

  it('uses the replay guard it is given, keyed per client and jti, until exp plus the skew', async () => {
    const calls: Array<[string, number]> = [];
    const seen = new Set<string>();
    const replayGuard: ClientAssertionReplayGuard = {
      async useOnce(key, expiresAt) {
        calls.push([key, expiresAt]);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      },
    };
    const dcr = endpoint({ clientAssertions: { replayGuard } });
    const client = await registerClient(dcr);
    const jwt = await assertion(client, { claims: { exp: clock + 100, jti: 'guarded' } });
    assert.deepEqual(await dcr.verifyClientAssertion(jwt, client), { ok: true });
    await refused(dcr, jwt, client, /used before/);
    assert.equal(calls.length, 2);
    assert.equal(calls[0]![1], clock + 130);
    assert.match(calls[0]![0], /^[0-9a-f]{64}$/, 'a fixed-length key, whatever the jti');

    const failing = endpoint({
      clientAssertions: {
        replayGuard: {
          useOnce: async () => {
            throw new Error('database down');
          },
        },
      },
    });
    const failingClient = await registerClient(failing);
    await refused(failing, await assertion(failingClient), failingClient, /could not be checked for replay/);
  });

  it('takes its audience from clientAssertions.audience when given', async () => {
    const dcr = endpoint({ clientAssertions: { audience: 'https://login.example.com' } });
    const client = await registerClient(dcr);
    await refused(dcr, await assertion(client), client, /aud must be exactly/);
    const jwt = await assertion(client, { claims: { aud: 'https://login.example.com' } });
    assert.deepEqual(await dcr.verifyClientAssertion(jwt, client), { ok: true });
  });

  it('refuses to start with private_key_jwt enabled and no issuer or audience', () => {
    assert.throws(
      () => createRegistration({ store: memoryStore(), tokenEndpointAuthMethods: ['private_key_jwt'] }),
      /private_key_jwt needs the issuer option/,
    );
    assert.throws(
      () => endpoint({ clientAssertions: { maxLifetimeSeconds: 0 } }),
      /maxLifetimeSeconds must be a whole number/,
    );
    assert.throws(() => endpoint({ clientAssertions: { audience: 'not a url' } }), /audience must be an absolute URL/);
  });
});

describe('createMemoryReplayGuard', () => {
  it('answers true once per key until it expires', async () => {
    let now = 1000;
    const guard = createMemoryReplayGuard({ now: () => now });
    assert.equal(await guard.useOnce('a', 1010), true);
    assert.equal(await guard.useOnce('a', 1010), false);
    now = 1011;
    assert.equal(await guard.useOnce('a', 1020), true);
  });

  it('is bounded: expired keys make room; with every slot live it refuses rather than forget one', async () => {
    let now = 1000;
    const guard = createMemoryReplayGuard({ maxEntries: 2, now: () => now });
    assert.equal(await guard.useOnce('a', 1010), true);
    assert.equal(await guard.useOnce('b', 1100), true);
    await assert.rejects(guard.useOnce('c', 1100), /full/);
    assert.equal(await guard.useOnce('a', 1010), false, 'a refusal forgets nothing');
    now = 1011;
    assert.equal(await guard.useOnce('c', 1100), true, 'the expired key made room');
    assert.equal(await guard.useOnce('b', 1100), false);
  });
});

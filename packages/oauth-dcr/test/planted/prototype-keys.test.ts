/**
 * Prototype-poisoning keys (`__proto__`, `constructor`, `prototype`) never reach a stored client
 * or its echo, at any depth, and Object.prototype is never touched. JSON.parse keeps `__proto__`
 * as a plain own property; kept in stored metadata, it would come back on every read, and any
 * later merge by assignment (a host's `Object.assign`, a spread into a plain object) would set
 * the prototype of the result. The keys are dropped where the JSON is read (core/request.ts) and
 * where statement claims are taken (RFC 7591 §2.3).
 *
 * Run on the memory store and on a real SQLite file, since the SQL stores round-trip metadata
 * through JSON text.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { ClientStore } from '../../src/index.js';
import { memoryStore } from '../../src/store/memory.js';
import { sqliteStore } from '../../src/store/sqlite.js';
import { bearer, makeRegistration, register, send } from '../support/registration.js';

const POISON = ['__proto__', 'constructor', 'prototype'];
const ISSUER = 'https://registry.example';

/** Every key of `value`, at any depth, as `path.key`. */
function allKeys(value: unknown, path = '$'): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const keys: string[] = [];
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key !== 'string') continue;
    keys.push(`${path}.${key}`);
    keys.push(...allKeys((value as Record<string, unknown>)[key], `${path}.${key}`));
  }
  return keys;
}

function assertNoPoison(value: unknown, what: string): void {
  const found = allKeys(value).filter((path) => POISON.some((key) => path.endsWith(`.${key}`)));
  assert.deepEqual(found, [], `${what} holds prototype-poisoning keys`);
}

function assertPrototypeClean(): void {
  const probe: Record<string, unknown> = {};
  assert.equal(probe.polluted, undefined, 'Object.prototype was polluted');
  assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
  assert.equal(Object.getPrototypeOf(probe), Object.prototype);
}

let publicJwk: JWK;
let signingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let clientJwk: JWK;

before(async () => {
  const statementPair = await generateKeyPair('ES256', { extractable: true });
  signingKey = statementPair.privateKey;
  publicJwk = { ...(await exportJWK(statementPair.publicKey)), kid: 'registry-1', alg: 'ES256' };
  const clientPair = await generateKeyPair('ES256', { extractable: true });
  clientJwk = { ...(await exportJWK(clientPair.publicKey)), kid: 'client-1', alg: 'ES256' };
});

/** The JWK written with poison keys spliced in as JSON text, as an attacker would send it. */
function poisonedJwkJson(): string {
  const base = JSON.stringify(clientJwk).slice(1, -1);
  return `{"__proto__":{"polluted":"jwk"},${base},"constructor":{"prototype":{"polluted":"jwk"}},"prototype":{"polluted":"jwk"}}`;
}

/** A private_key_jwt registration with poison keys at the top, in `jwks` and in a key. */
function poisonedBody(): string {
  return `{
    "__proto__": {"polluted": "top", "client_name": "Injected"},
    "constructor": {"prototype": {"polluted": "top"}},
    "prototype": {"polluted": "top"},
    "client_name": "Keys Client",
    "redirect_uris": ["https://app.example.com/cb"],
    "grant_types": ["authorization_code"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "private_key_jwt",
    "jwks": {"__proto__": {"polluted": "jwks"}, "keys": [${poisonedJwkJson()}], "constructor": {"polluted": "jwks"}}
  }`;
}

const backends: Array<{ name: string; open(): Promise<{ store: ClientStore; close(): Promise<void> }> }> = [
  { name: 'memory', open: async () => ({ store: memoryStore(), close: async () => {} }) },
  {
    name: 'sqlite',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-planted-'));
      const store = sqliteStore(join(dir, 'clients.db'));
      return {
        store,
        async close() {
          await store.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

for (const backend of backends) {
  describe(`prototype-poisoning keys are dropped (${backend.name})`, () => {
    let opened: { store: ClientStore; close(): Promise<void> };
    before(async () => {
      opened = await backend.open();
    });
    after(() => opened.close());

    it('at the top of the body, in jwks and in a key: neither stored nor echoed (registration and RFC 7592 read)', async () => {
      const dcr = makeRegistration({
        store: opened.store,
        tokenEndpointAuthMethods: ['none', 'private_key_jwt'],
      });
      const res = await register(dcr, poisonedBody());
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.client_name, 'Keys Client');
      assertNoPoison(res.body, 'the registration answer');
      for (const key of POISON) assert.equal(res.text.includes(`"${key}"`), false, `answer text holds "${key}"`);
      assert.equal(res.body.jwks.keys.length, 1);
      assert.equal(res.body.jwks.keys[0].kid, 'client-1');

      const stored = await opened.store.findClient(res.body.client_id);
      assert.ok(stored);
      assertNoPoison(stored.metadata, 'the stored metadata');
      assert.equal(JSON.stringify(stored.metadata).includes('__proto__'), false);

      const read = await send(
        dcr,
        'GET',
        `/register/${res.body.client_id}`,
        undefined,
        bearer(res.body.registration_access_token),
      );
      assert.equal(read.status, 200, read.text);
      assertNoPoison(read.body, 'the RFC 7592 read');
      for (const key of POISON) assert.equal(read.text.includes(`"${key}"`), false, `read text holds "${key}"`);
      assertPrototypeClean();
    });

    it('in an RFC 7592 update: neither stored nor echoed', async () => {
      const dcr = makeRegistration({
        store: opened.store,
        tokenEndpointAuthMethods: ['none', 'private_key_jwt'],
      });
      const created = await register(dcr, {
        redirect_uris: ['https://app.example.com/cb'],
        token_endpoint_auth_method: 'none',
      });
      assert.equal(created.status, 201, created.text);
      const body = poisonedBody().replace('{', `{"client_id": ${JSON.stringify(created.body.client_id)},`);
      const updated = await send(
        dcr,
        'PUT',
        `/register/${created.body.client_id}`,
        body,
        bearer(created.body.registration_access_token),
      );
      assert.equal(updated.status, 200, updated.text);
      assertNoPoison(updated.body, 'the update answer');
      const stored = await opened.store.findClient(created.body.client_id);
      assertNoPoison(stored?.metadata, 'the stored metadata after update');
      assertPrototypeClean();
    });

    it('in software statement claims (RFC 7591 §2.3): neither stored nor echoed', async () => {
      const dcr = makeRegistration({
        store: opened.store,
        tokenEndpointAuthMethods: ['none', 'private_key_jwt'],
        softwareStatements: { issuers: [{ issuer: ISSUER, jwks: { keys: [publicJwk] } }] },
      });
      const claims = JSON.parse(`{
        "__proto__": {"polluted": "statement"},
        "software_id": "keys-app",
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [${poisonedJwkJson()}], "__proto__": {"polluted": "statement"}}
      }`) as Record<string, unknown>;
      const statement = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'registry-1' })
        .setIssuer(ISSUER)
        .setIssuedAt()
        .sign(signingKey);
      const res = await register(dcr, {
        redirect_uris: ['https://app.example.com/cb'],
        software_statement: statement,
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.software_id, 'keys-app');
      const { software_statement: _echoedVerbatim, ...echoed } = res.body;
      assertNoPoison(echoed, 'the registration answer');
      const stored = await opened.store.findClient(res.body.client_id);
      const { software_statement: _kept, ...storedMetadata } = stored?.metadata ?? {};
      assertNoPoison(storedMetadata, 'the stored metadata');
      assertPrototypeClean();
    });
  });
}

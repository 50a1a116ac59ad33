import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { exportJWK, generateKeyPair } from 'jose';
import { RegistrationError } from '../../src/index.js';
import { memoryStore } from '../../src/store/memory.js';
import { makeRegistration, register, send, mcpClient } from '../support/registration.js';

/** A real client's registration body, verbatim, from test/fixtures/clients/. */
function clientFixture(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/clients/${file}`, import.meta.url), 'utf8')).body;
}

describe('POST /register: the response (RFC 7591 §3.2.1)', () => {
  it('answers 201 with no-store JSON and CORS headers', async () => {
    const res = await register(makeRegistration(), mcpClient);
    assert.equal(res.status, 201);
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('pragma'), 'no-cache');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  it('echoes redirect_uris byte for byte and in order', async () => {
    const uris = [
      'https://b.example/cb?x=%2F',
      'http://127.0.0.1/',
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'HTTPS://A.example/Cb',
    ];
    const mixed = await register(makeRegistration(), { redirect_uris: uris, token_endpoint_auth_method: 'none' });
    assert.equal(mixed.status, 201, mixed.text);
    assert.deepEqual(mixed.body.redirect_uris, uris);
    const native = [
      'http://127.0.0.1:9/cb?x=%2F',
      'http://[::1]/',
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'com.example.app:/Cb',
    ];
    const ok = await register(makeRegistration(), { redirect_uris: native, token_endpoint_auth_method: 'none' });
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual(ok.body.redirect_uris, native);
  });

  it('applies RFC 7591 defaults and echoes them', async () => {
    const res = await register(makeRegistration(), { redirect_uris: ['https://app.example/cb'] });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.grant_types, ['authorization_code']);
    assert.deepEqual(res.body.response_types, ['code']);
    assert.equal(res.body.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(res.body.application_type, 'web');
  });

  it('issues a 256-bit secret with client_secret_expires_at, stored only as a SHA-256 hash', async () => {
    const store = memoryStore();
    const dcr = makeRegistration({ store });
    const res = await register(dcr, {
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    assert.equal(res.status, 201);
    assert.equal(typeof res.body.client_secret, 'string');
    assert.equal(Buffer.from(res.body.client_secret, 'base64url').length, 32);
    assert.equal(res.body.client_secret_expires_at, 0);
    assert.ok(Number.isInteger(res.body.client_id_issued_at));
    const stored = await store.findClient(res.body.client_id);
    assert.ok(stored);
    assert.equal(stored.clientSecretHash, createHash('sha256').update(res.body.client_secret).digest('hex'));
    assert.ok(!JSON.stringify(stored).includes(res.body.client_secret), 'plaintext secret must not be stored');
    assert.ok(!res.text.includes(stored.clientSecretHash!), 'the hash must never be returned');
  });

  it('gives a none client no secret and no client_secret_expires_at', async () => {
    const res = await register(makeRegistration(), mcpClient);
    assert.equal(res.body.client_secret, undefined);
    assert.equal(res.body.client_secret_expires_at, undefined);
    assert.ok(!Object.values(res.body).includes(null), 'absent members are omitted, never null');
  });

  it('sets client_secret_expires_at from clientSecretTtl', async () => {
    const dcr = makeRegistration({ clientSecretTtl: 3600, now: () => 1_700_000_000 });
    const res = await register(dcr, { redirect_uris: ['https://app.example/cb'] });
    assert.equal(res.body.client_id_issued_at, 1_700_000_000);
    assert.equal(res.body.client_secret_expires_at, 1_700_003_600);
  });

  it('gives distinct client ids and secrets', async () => {
    const dcr = makeRegistration();
    const a = await register(dcr, { redirect_uris: ['https://app.example/cb'] });
    const b = await register(dcr, { redirect_uris: ['https://app.example/cb'] });
    assert.notEqual(a.body.client_id, b.body.client_id);
    assert.notEqual(a.body.client_secret, b.body.client_secret);
  });
});

describe('POST /register: what real clients send', () => {
  const bodies: Record<string, Record<string, unknown>> = {
    'loopback without a port': { redirect_uris: ['http://127.0.0.1/'], token_endpoint_auth_method: 'none' },
    'loopback with a port': {
      redirect_uris: ['http://localhost:6274/oauth/callback'],
      token_endpoint_auth_method: 'none',
    },
    // Verbatim, with no application_type (every real client is in test/http/real-clients.test.ts).
    'Cursor: custom scheme with https and loopback in one request': clientFixture('cursor.json'),
    'Grok Bot: the same three kinds with only client_name': clientFixture('grok-bot.json'),
    'application_type native': {
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1:5000/cb'],
      token_endpoint_auth_method: 'none',
    },
    'scope ""': { scope: '', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' },
    'VS Code: device_code mixed in': clientFixture('vscode.json'),
    'hosted web client with client_secret_post (Claude)': clientFixture('claude-ai.json'),
  };
  for (const [name, body] of Object.entries(bodies)) {
    it(`registers ${name}`, async () => {
      const res = await register(makeRegistration(), body);
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(res.body.redirect_uris, body.redirect_uris);
    });
  }

  it('drops device_code and shows what was registered', async () => {
    const res = await register(makeRegistration(), bodies['VS Code: device_code mixed in']);
    assert.deepEqual(res.body.grant_types, ['authorization_code', 'refresh_token']);
  });

  it('treats scope "" as no scope asked for', async () => {
    const res = await register(makeRegistration(), bodies['scope ""']);
    assert.equal(res.body.scope, undefined);
  });

  it('infers native for a client with only loopback or private-use redirects', async () => {
    const res = await register(makeRegistration(), {
      redirect_uris: ['cursor://x/cb', 'http://127.0.0.1/'],
      token_endpoint_auth_method: 'none',
    });
    assert.equal(res.body.application_type, 'native');
  });

  // RFC 8252 §7.1-7.3: any loopback or private-use redirect makes a client native, and a native
  // client may also register claimed https redirects. The decision is echoed.
  const inferred: Array<[string, string[], string]> = [
    [
      'private-use, https and loopback (Cursor)',
      bodies['Cursor: custom scheme with https and loopback in one request']!.redirect_uris as string[],
      'native',
    ],
    ['private-use with https', ['cursor://x/cb', 'https://app.example/cb'], 'native'],
    ['loopback with https', ['https://app.example/cb', 'http://127.0.0.1/cb'], 'native'],
    ['loopback without a port (Claude Code)', ['http://localhost/callback'], 'native'],
    ['https only', ['https://app.example/cb'], 'web'],
  ];
  for (const [name, redirect_uris, type] of inferred) {
    it(`infers application_type ${type} for ${name}, and echoes it`, async () => {
      const res = await register(makeRegistration(), { redirect_uris, token_endpoint_auth_method: 'none' });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.application_type, type);
      assert.deepEqual(res.body.redirect_uris, redirect_uris);
    });
  }

  it('still refuses a declared web client with a private-use redirect, naming it', async () => {
    const res = await register(makeRegistration(), {
      ...bodies['Cursor: custom scheme with https and loopback in one request'],
      application_type: 'web',
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error, 'invalid_redirect_uri');
    assert.match(res.body.error_description, /native.*cursor:\/\/anysphere\.cursor-mcp\/oauth\/callback/);
  });

  it('keeps a declared application_type native with claimed https redirects', async () => {
    const res = await register(makeRegistration(), {
      application_type: 'native',
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'none',
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.application_type, 'native');
  });
});

describe('POST /register: metadata rules (RFC 7591 §2)', () => {
  const base = { redirect_uris: ['https://app.example/cb'] };
  const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
    [
      'redirect_uris not an array',
      { redirect_uris: 'https://app.example/cb' },
      'invalid_client_metadata',
      /redirect_uris must be an array/,
    ],
    [
      'redirect_uris missing for authorization_code',
      { grant_types: ['authorization_code'] },
      'invalid_redirect_uri',
      /redirect_uris required for authorization code grants/,
    ],
    ['redirect_uris empty', { redirect_uris: [] }, 'invalid_redirect_uri', /redirect_uris required/],
    [
      'redirect uri with fragment',
      { redirect_uris: ['https://a.example/cb#x'] },
      'invalid_redirect_uri',
      /fragment: https:\/\/a.example\/cb#x/,
    ],
    [
      'plain http off loopback',
      { redirect_uris: ['http://example.com/callback'] },
      'invalid_redirect_uri',
      /HTTPS required for redirect URIs in production: http:\/\/example.com\/callback/,
    ],
    ['javascript redirect', { redirect_uris: ['javascript:alert(1)//'] }, 'invalid_redirect_uri', /javascript/],
    [
      'private-use scheme for a web client',
      { application_type: 'web', redirect_uris: ['cursor://x/cb'] },
      'invalid_redirect_uri',
      /native/,
    ],
    [
      'unknown auth method',
      { ...base, token_endpoint_auth_method: 'client_secret_jwt' },
      'invalid_client_metadata',
      /token_endpoint_auth_method 'client_secret_jwt' is not supported/,
    ],
    [
      'auth method not a string',
      { ...base, token_endpoint_auth_method: 7 },
      'invalid_client_metadata',
      /token_endpoint_auth_method must be a string/,
    ],
    [
      'grant_types not an array',
      { ...base, grant_types: 'authorization_code' },
      'invalid_client_metadata',
      /grant_types must be an array/,
    ],
    [
      'password grant',
      { ...base, grant_types: ['password'] },
      'invalid_client_metadata',
      /^Grant type 'password' is not allowed for dynamic registration$/,
    ],
    ['inconsistent response type', { ...base, response_types: ['token'] }, 'invalid_client_metadata', /implicit/],
    [
      'response_types of numbers',
      { ...base, response_types: [1] },
      'invalid_client_metadata',
      /response_types\[0\] must be a string/,
    ],
    ['client_name a number', { ...base, client_name: 42 }, 'invalid_client_metadata', /client_name must be a string/],
    [
      'client_name 10k characters',
      { ...base, client_name: 'x'.repeat(10_000) },
      'invalid_client_metadata',
      /client_name must be at most 256 characters/,
    ],
    [
      'client_name with control characters',
      { ...base, client_name: 'a\u0000b' },
      'invalid_client_metadata',
      /client_name must not contain control characters/,
    ],
    [
      'client_uri javascript',
      { ...base, client_uri: 'javascript:alert(1)' },
      'invalid_client_metadata',
      /client_uri must use http or https/,
    ],
    [
      'logo_uri relative',
      { ...base, logo_uri: '/logo.png' },
      'invalid_client_metadata',
      /logo_uri must be an absolute URL/,
    ],
    [
      'tos_uri not a string',
      { ...base, tos_uri: ['https://a.example'] },
      'invalid_client_metadata',
      /tos_uri must be a string/,
    ],
    [
      'policy_uri ftp',
      { ...base, policy_uri: 'ftp://a.example/p' },
      'invalid_client_metadata',
      /policy_uri must use http or https/,
    ],
    ['scope not a string', { ...base, scope: ['read'] }, 'invalid_client_metadata', /scope must be a string/],
    ['scope with a quote', { ...base, scope: 'read "write"' }, 'invalid_client_metadata', /not a valid scope value/],
    [
      'contacts not an array',
      { ...base, contacts: 'a@b.example' },
      'invalid_client_metadata',
      /contacts must be an array/,
    ],
    ['contacts with a number', { ...base, contacts: [1] }, 'invalid_client_metadata', /contacts\[0\] must be a string/],
    [
      'jwks_uri over http',
      { ...base, jwks_uri: 'http://a.example/jwks' },
      'invalid_client_metadata',
      /jwks_uri must use https/,
    ],
    ['jwks not a set', { ...base, jwks: [{ kty: 'RSA' }] }, 'invalid_client_metadata', /jwks must be a JWK Set/],
    [
      'jwks and jwks_uri together',
      { ...base, jwks_uri: 'https://a.example/jwks', jwks: { keys: [] } },
      'invalid_client_metadata',
      /must not both be present/,
    ],
    [
      'jwks with a private key',
      { ...base, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }] } },
      'invalid_client_metadata',
      /must be a public key/,
    ],
    [
      'jwks with a broken key',
      { ...base, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a' }] } },
      'invalid_client_metadata',
      /jwks.keys\[0\] is not a valid JWK/,
    ],
    ['software_id a number', { ...base, software_id: 5 }, 'invalid_client_metadata', /software_id must be a string/],
    [
      'software_version an object',
      { ...base, software_version: {} },
      'invalid_client_metadata',
      /software_version must be a string/,
    ],
    ['bad language tag', { ...base, 'client_name#not a tag': 'x' }, 'invalid_client_metadata', /language tag/],
    [
      'application_type unknown',
      { ...base, application_type: 'desktop' },
      'invalid_client_metadata',
      /application_type must be one of/,
    ],
    // RFC 6335 §6: ports are 1-65535; WHATWG URL throws above that and accepts 0.
    [
      'loopback port 65536',
      { redirect_uris: ['http://127.0.0.1:65536/cb'] },
      'invalid_redirect_uri',
      /port must be between 1 and 65535: http:\/\/127.0.0.1:65536\/cb/,
    ],
    [
      'loopback port 99999',
      { redirect_uris: ['http://127.0.0.1:99999/cb'] },
      'invalid_redirect_uri',
      /port must be between 1 and 65535: http:\/\/127.0.0.1:99999\/cb/,
    ],
    [
      'loopback port 0',
      { redirect_uris: ['http://127.0.0.1:0/cb'] },
      'invalid_redirect_uri',
      /port must be between 1 and 65535: http:\/\/127.0.0.1:0\/cb/,
    ],
    [
      'https port 0',
      { redirect_uris: ['https://app.example:0/cb'] },
      'invalid_redirect_uri',
      /port must be between 1 and 65535: https:\/\/app.example:0\/cb/,
    ],
  ];
  for (const [name, body, code, description] of bad) {
    it(`refuses ${name}`, async () => {
      const res = await register(makeRegistration(), body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error, code);
      assert.match(res.body.error_description, description);
    });
  }

  it('accepts a valid public JWK set', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const res = await register(makeRegistration(), { ...base, jwks: { keys: [jwk] } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.jwks, { keys: [jwk] });
  });

  it('refuses an unsigned software statement as invalid, even with no issuer trusted (RFC 7591 §3.2.2)', async () => {
    const res = await register(makeRegistration(), { ...base, software_statement: 'eyJhbGciOiJub25lIn0.e30.' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_software_statement');
  });

  it('keeps language-tagged fields and ignores unknown ones', async () => {
    const res = await register(makeRegistration(), {
      ...base,
      client_name: 'My App',
      'client_name#ja-Jpan-JP': 'アプリ',
      'logo_uri#en': 'https://a.example/logo.png',
      'scope#en': 'ignored: not a human-readable field',
      favourite_colour: 'blue',
    });
    assert.equal(res.status, 201);
    assert.equal(res.body['client_name#ja-Jpan-JP'], 'アプリ');
    assert.equal(res.body['logo_uri#en'], 'https://a.example/logo.png');
    assert.equal(res.body.favourite_colour, undefined);
    assert.equal(res.body['scope#en'], undefined);
  });

  it('ignores server-assigned members sent by the client', async () => {
    const res = await register(makeRegistration(), {
      ...base,
      client_id: 'chosen',
      client_secret: 'chosen',
      client_id_issued_at: 1,
    });
    assert.equal(res.status, 201);
    assert.notEqual(res.body.client_id, 'chosen');
    assert.notEqual(res.body.client_secret, 'chosen');
    assert.notEqual(res.body.client_id_issued_at, 1);
  });

  it('enables opt-in grants per deployment', async () => {
    const dcr = makeRegistration({ allowedGrantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    const res = await register(dcr, { grant_types: ['client_credentials'], client_name: 'worker' });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.response_types, []);
    assert.equal(res.body.redirect_uris, undefined);
  });

  it('refuses client_credentials for a public client, even where the grant is enabled (RFC 6749 §4.4)', async () => {
    const dcr = makeRegistration({ allowedGrantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    for (const grant_types of [['client_credentials'], ['authorization_code', 'client_credentials']]) {
      const res = await register(dcr, {
        grant_types,
        token_endpoint_auth_method: 'none',
        redirect_uris: ['https://app.example/cb'],
        client_name: 'worker',
      });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error, 'invalid_client_metadata');
      assert.match(
        res.body.error_description,
        /'client_credentials' requires client authentication \(RFC 6749 §4\.4\).*public client/,
      );
    }
    const confidential = await register(dcr, {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
      client_name: 'worker',
    });
    assert.equal(confidential.status, 201, confidential.text);
  });

  it('keeps only supported scopes and echoes the result', async () => {
    const dcr = makeRegistration({ scopesSupported: ['read', 'write'] });
    const res = await register(dcr, { ...base, scope: 'read admin write' });
    assert.equal(res.body.scope, 'read write');
  });

  it('honours requireHttpsRedirectUris: false', async () => {
    const res = await register(makeRegistration({ requireHttpsRedirectUris: false }), {
      redirect_uris: ['http://dev.example/cb'],
    });
    assert.equal(res.status, 201, res.text);
  });
});

describe("POST /register: hooks (the seed's view overrides)", () => {
  it('returns a RegistrationError thrown by validateMetadata to the client', async () => {
    const dcr = makeRegistration({
      validateMetadata: (metadata) => {
        if (String(metadata.client_name).toLowerCase().includes('forbidden')) {
          throw new RegistrationError('invalid_client_metadata', 'Client name contains forbidden words');
        }
      },
    });
    const res = await register(dcr, { ...mcpClient, client_name: 'A Forbidden App' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'invalid_client_metadata',
      error_description: 'Client name contains forbidden words',
    });
  });

  it('lets validateMetadata replace metadata, and echoes the replacement', async () => {
    const dcr = makeRegistration({ validateMetadata: (metadata) => ({ ...metadata, client_name: 'Renamed' }) });
    const res = await register(dcr, mcpClient);
    assert.equal(res.body.client_name, 'Renamed');
  });

  it('lets createClient shape the stored record', async () => {
    const store = memoryStore();
    const dcr = makeRegistration({ store, createClient: (draft) => ({ ...draft, clientId: `mcp-${draft.clientId}` }) });
    const res = await register(dcr, mcpClient);
    assert.match(res.body.client_id, /^mcp-/);
    assert.ok(await store.findClient(res.body.client_id));
  });

  it('answers an unexpected hook failure with a generic JSON 500 and no details', async () => {
    const dcr = makeRegistration({
      createClient: () => {
        throw new Error('database password is hunter2');
      },
    });
    const res = await register(dcr, mcpClient);
    assert.equal(res.status, 500);
    assert.equal(res.body.error, 'server_error');
    assert.ok(!res.text.includes('hunter2'));
  });
});

describe('POST /register: transport', () => {
  it('accepts a trailing slash and never redirects', async () => {
    const res = await send(makeRegistration(), 'POST', '/register/', mcpClient);
    assert.equal(res.status, 201);
  });

  it('answers GET on the collection with 405 JSON and Allow', async () => {
    const res = await send(makeRegistration(), 'GET', '/register');
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
    assert.equal(res.body.error, 'invalid_request', 'only OAuth codes go on the wire (RFC 6749 §5.2)');
    assert.match(res.body.error_description, /GET/);
  });

  it('answers a CORS preflight with 204', async () => {
    const res = await send(makeRegistration(), 'OPTIONS', '/register', undefined, {
      origin: 'https://inspector.example',
      'access-control-request-method': 'POST',
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('access-control-allow-methods')!, /POST/);
    assert.match(res.headers.get('access-control-allow-headers')!, /Content-Type/i);
  });

  it('puts CORS headers on errors too, and can restrict origins', async () => {
    const dcr = makeRegistration({ cors: ['https://inspector.example'] });
    const ok = await send(dcr, 'POST', '/register', { redirect_uris: 'x' }, { origin: 'https://inspector.example' });
    assert.equal(ok.status, 400);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://inspector.example');
    const other = await send(dcr, 'POST', '/register', mcpClient, { origin: 'https://evil.example' });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('answers unknown paths with JSON 404', async () => {
    const res = await send(makeRegistration(), 'POST', '/register/a/b/c', mcpClient);
    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'invalid_request', 'only OAuth codes go on the wire (RFC 6749 §5.2)');
  });
});

describe('POST /register: hostile input gets JSON 4xx and the server keeps serving', () => {
  const dcr = makeRegistration();
  const cases: Array<[string, string | undefined, Record<string, string>, number, string]> = [
    ['malformed JSON', '{"redirect_uris": [', {}, 400, 'invalid_client_metadata'],
    ['a JSON array', '[1,2,3]', {}, 400, 'invalid_client_metadata'],
    ['a JSON string', '"hello"', {}, 400, 'invalid_client_metadata'],
    ['JSON null', 'null', {}, 400, 'invalid_client_metadata'],
    ['an empty body', '', {}, 400, 'invalid_client_metadata'],
    ['a wrong Content-Type', JSON.stringify(mcpClient), { 'content-type': 'text/plain' }, 400, 'invalid_request'],
    ['form encoding', 'client_name=x', { 'content-type': 'application/x-www-form-urlencoded' }, 400, 'invalid_request'],
    ['a 64 KiB+ body', JSON.stringify({ ...mcpClient, padding: 'x'.repeat(70_000) }), {}, 413, 'invalid_request'],
    ['deeply nested JSON', `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`, {}, 400, 'invalid_client_metadata'],
    ['invalid UTF-8', '\uFFFD', {}, 400, 'invalid_client_metadata'],
  ];
  for (const [name, body, headers, status, code] of cases) {
    it(`refuses ${name}`, async () => {
      const res = await send(dcr, 'POST', '/register', body ?? '', { 'content-type': 'application/json', ...headers });
      assert.equal(res.status, status, res.text);
      assert.equal(res.body.error, code);
      assert.equal(typeof res.body.error_description, 'string');
    });
  }

  it('refuses a body with no Content-Type', async () => {
    const response = await dcr(
      new Request('https://as.example.com/register', { method: 'POST', body: new Blob([JSON.stringify(mcpClient)]) }),
    );
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
  });

  it('drops __proto__ and constructor keys without touching prototypes', async () => {
    const body = `{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none", "client_name": "x"}`;
    const res = await send(dcr, 'POST', '/register', body);
    assert.equal(res.status, 201, res.text);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(res.body), Object.prototype);
    assert.ok(!('polluted' in res.body));
  });

  it('still registers after all of the above', async () => {
    const res = await send(dcr, 'POST', '/register', mcpClient);
    assert.equal(res.status, 201);
  });
});

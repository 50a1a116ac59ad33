import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createRegistration, type Registration } from 'oauth-dcr';
import { REGISTRATION_ERROR_CODES } from 'oauth-dcr/errors';
import { memoryStore } from 'oauth-dcr/memory';
import { checkProperty } from '../support/property-runner.js';
import { registrationBody } from '../support/property-client-metadata.js';

/**
 * The metadata validator, through the public Registration handler (memory store) and its dry run
 * (`dcr.validate`), over mutated real payloads and generated metadata (see
 * test/support/property-client-metadata.ts):
 * - the dry run and the registration agree: the same echo, or the same error and status;
 * - it answers a RegistrationError (a JSON 4xx with an RFC 7591 §3.2.2 / RFC 6749 §5.2 code) or a
 *   client, never anything else: no 5xx, no `onError`;
 * - registering what it echoed changes nothing (the validator is idempotent), and neither does an
 *   RFC 7592 §2.2 update with it;
 * - `redirect_uris` come back byte for byte (RFC 7591 §2: compared by simple string comparison);
 * - the echo never holds `null` (RFC 7591 §3.2.1: absent members are omitted).
 */

const ISSUER = 'https://as.example.com';
const SEEDS = fileURLToPath(new URL('./seeds/', import.meta.url));
/** Members the server issues (RFC 7591 §3.2.1, RFC 7592 §3): not metadata the client sent. */
const ISSUED = [
  'client_id',
  'client_id_issued_at',
  'client_secret',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
];

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One endpoint per property run; any onError call is a server fault the property reports. */
function endpoint(): { dcr: Registration; faults: unknown[] } {
  const faults: unknown[] = [];
  const dcr = createRegistration({ store: memoryStore(), issuer: ISSUER, onError: (error) => faults.push(error) });
  return { dcr, faults };
}

async function call(
  dcr: Registration,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await dcr(
    new Request(`${ISSUER}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body }),
    }),
  );
  const text = await response.text();
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, `${response.status} ${text}`);
  const parsed = JSON.parse(text) as Record<string, unknown>;
  assert.ok(response.status < 500, `a ${response.status}: ${text}`);
  if (response.status >= 400) {
    assert.ok(
      (REGISTRATION_ERROR_CODES as readonly unknown[]).includes(parsed.error),
      `not an RFC error code: ${text}`,
    );
    assert.ok(!/\n\s+at /.test(text), `a stack trace in the answer: ${text}`);
  }
  return { status: response.status, body: parsed };
}

function assertNoNull(value: unknown, where = '$'): void {
  assert.notEqual(value, null, `null at ${where}`);
  // Arrays too: their entries are their members.
  if (typeof value === 'object' && value !== null)
    for (const [key, item] of Object.entries(value)) assertNoNull(item, `${where}.${key}`);
}

function metadataOf(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !ISSUED.includes(key)));
}

/** The redirect_uris as sent, when the text parses and holds a list of them. */
function sentRedirectUris(text: string): unknown {
  try {
    return (JSON.parse(text) as Record<string, unknown>).redirect_uris;
  } catch {
    return undefined;
  }
}

/** The rules every accepted echo keeps. */
function checkEcho(sent: string, echo: Record<string, unknown>): void {
  assertNoNull(echo);
  const uris = sentRedirectUris(sent);
  if (Array.isArray(uris)) assert.deepEqual(echo.redirect_uris, uris, 'redirect_uris must come back byte for byte');
}

async function checkRegistration(text: string): Promise<void> {
  const { dcr, faults } = endpoint();
  // The dry run first (it stores nothing), then the registration: they must agree.
  const dryRun = await dcr.validate(text);
  const first = await call(dcr, 'POST', '/register', text);
  assert.deepEqual(faults, []);
  if (first.status !== 413) {
    if (dryRun.valid) {
      assert.equal(first.status, 201, `the dry run accepted what registration refused: ${JSON.stringify(first.body)}`);
      assert.deepEqual(
        metadataOf(dryRun.metadata),
        metadataOf(first.body),
        'the dry run echoes what registration does',
      );
    } else {
      assert.deepEqual(
        { status: first.status, error: first.body.error },
        { status: dryRun.error.status, error: dryRun.error.error },
        'the dry run refuses as registration does',
      );
    }
  }
  if (first.status !== 201) return;
  checkEcho(text, first.body);
  if (dryRun.valid) {
    // The dry run is idempotent too: its own answer, validated again, comes back unchanged.
    const again = await dcr.validate(metadataOf(dryRun.metadata));
    assert.ok(again.valid, `the dry run refused its own answer: ${JSON.stringify(again)}`);
    assert.deepEqual(metadataOf(again.metadata), metadataOf(dryRun.metadata));
  }

  // Idempotent: the echo, registered again, is accepted and echoed unchanged.
  const again = JSON.stringify(metadataOf(first.body));
  const second = await call(dcr, 'POST', '/register', again);
  assert.equal(second.status, 201, `its own echo refused: ${JSON.stringify(second.body)}`);
  assert.deepEqual(metadataOf(second.body), metadataOf(first.body));

  // The same through RFC 7592 §2.2: an update with the client's current metadata changes nothing.
  const clientId = String(first.body.client_id);
  const update = JSON.stringify({ ...metadataOf(first.body), client_id: clientId });
  const token = String(first.body.registration_access_token);
  const updated = await call(dcr, 'PUT', `/register/${encodeURIComponent(clientId)}`, update, {
    authorization: `Bearer ${token}`,
  });
  assert.equal(updated.status, 200, `its own metadata refused on update: ${JSON.stringify(updated.body)}`);
  assert.deepEqual(metadataOf(updated.body), metadataOf(first.body));
  assert.deepEqual(faults, []);
}

/** A client registered from a clean payload, then updated (RFC 7592 §2.2) with the mutated one. */
async function checkUpdate(text: string): Promise<void> {
  const { dcr, faults } = endpoint();
  const created = await call(
    dcr,
    'POST',
    '/register',
    JSON.stringify({ redirect_uris: ['https://app.example/cb'], client_name: 'Property' }),
  );
  assert.equal(created.status, 201);
  const clientId = String(created.body.client_id);
  let body = text;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      body = JSON.stringify({ ...(parsed as object), client_id: clientId });
  } catch {
    // Broken JSON text is sent as it is.
  }
  const updated = await call(dcr, 'PUT', `/register/${encodeURIComponent(clientId)}`, body, {
    authorization: `Bearer ${String(created.body.registration_access_token)}`,
  });
  assert.deepEqual(faults, []);
  if (updated.status === 200) checkEcho(body, updated.body);
}

describe('client metadata properties (Registration handler, memory store)', () => {
  it('registration: a RegistrationError or an idempotent, null-free echo with redirect_uris intact', async () => {
    await checkProperty({
      name: 'metadata-registration',
      arbitrary: registrationBody,
      check: checkRegistration,
      testRuns: 1000,
      fuzzShare: 0.3,
      seedsDirectory: SEEDS,
    });
  });

  it('RFC 7592 update: a RegistrationError or a null-free echo with redirect_uris intact', async () => {
    await checkProperty({
      name: 'metadata-update',
      arbitrary: registrationBody,
      check: checkUpdate,
      testRuns: 600,
      fuzzShare: 0.15,
      seedsDirectory: SEEDS,
    });
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeRegistration, send } from '../support/registration.js';

/**
 * Real clients' registration requests, replayed verbatim from test/fixtures/clients/ against the
 * default policy. A fixture that fails is a bug in the server, never in the fixture: nothing may
 * be added to a body to make it pass (DESIGN.md, "Real parts").
 */

interface ClientFixture {
  client: string;
  /** Where the body comes from: a source file at a commit, or observed traffic. */
  source: string;
  observed: string;
  body: Record<string, unknown>;
}

const FIXTURES = fileURLToPath(new URL('../fixtures/clients/', import.meta.url));

function loadFixtures(): Map<string, ClientFixture> {
  const fixtures = new Map<string, ClientFixture>();
  for (const file of readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    fixtures.set(file, JSON.parse(readFileSync(`${FIXTURES}${file}`, 'utf8')) as ClientFixture);
  }
  return fixtures;
}

/**
 * What each client must get. application_type is what the server decides (OIDC DCR §2 with
 * RFC 8252 §7): declared, or native for any loopback or private-use redirect.
 */
const EXPECTED: Record<string, { applicationType: 'native' | 'web' }> = {
  'cursor.json': { applicationType: 'native' },
  'grok-bot.json': { applicationType: 'native' },
  'vscode.json': { applicationType: 'native' },
  'claude-code.json': { applicationType: 'native' },
  'claude-ai.json': { applicationType: 'web' },
  'chatgpt.json': { applicationType: 'web' },
  'mcp-remote.json': { applicationType: 'native' },
  'mcp-inspector.json': { applicationType: 'native' },
  'mcp-typescript-sdk.json': { applicationType: 'native' },
  'mcp-python-sdk.json': { applicationType: 'native' },
};

const fixtures = loadFixtures();

describe('Real clients register verbatim (test/fixtures/clients)', () => {
  it('has a fixture for every client we promise to serve, and an expectation for every fixture', () => {
    assert.deepEqual([...fixtures.keys()].sort(), Object.keys(EXPECTED).sort());
  });

  for (const [file, fixture] of fixtures) {
    const expected = EXPECTED[file];

    it(`${fixture.client} (${file}) names where its payload was observed`, () => {
      assert.ok(fixture.source.length > 0 && fixture.observed.length > 0);
      assert.ok(Array.isArray(fixture.body.redirect_uris), 'every real client here uses redirects');
    });

    it(`registers ${fixture.client} with 201 and echoes redirect_uris byte for byte`, async () => {
      // The fixture's own bytes, not a re-serialisation of a copy the test could have touched.
      const raw = JSON.stringify(fixture.body);
      const res = await send(makeRegistration(), 'POST', '/register', raw);
      assert.equal(res.status, 201, `${fixture.client}: ${res.text}`);
      assert.deepEqual(res.body.redirect_uris, fixture.body.redirect_uris);
      assert.ok(
        res.text.includes(`"redirect_uris":${JSON.stringify(fixture.body.redirect_uris)}`),
        'same order, same bytes',
      );
      assert.equal(res.body.application_type, expected?.applicationType);
      if (fixture.body.client_name !== undefined) assert.equal(res.body.client_name, fixture.body.client_name);
      if (fixture.body.token_endpoint_auth_method !== undefined) {
        assert.equal(res.body.token_endpoint_auth_method, fixture.body.token_endpoint_auth_method);
      }
      // RFC 7591 §3.2.1: what was registered is shown; grants the server does not support
      // (VS Code's device_code) are dropped, never invented.
      const requestedGrants = (fixture.body.grant_types as string[] | undefined) ?? ['authorization_code'];
      for (const grant of res.body.grant_types as string[]) assert.ok(requestedGrants.includes(grant), grant);
      assert.ok(!Object.values(res.body).includes(null), 'absent members are omitted, never null');
    });
  }
});

/**
 * Validating a document (CIMD §4.1; MCP "For Authorization Servers"): the document's own rules,
 * then the same metadata engine as a registration, held to the metadata_document tier.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  RegistrationError,
  type AuditEvent,
  type ClientRecord,
  type Registration,
  type RegistrationContext,
} from 'oauth-dcr';
import { checkDocumentRules } from '../../src/cimd/document-rules.js';
import {
  found,
  lookUpFresh,
  refusedWith,
  minimalDocument,
  skip,
  startDocumentServer,
  type DocumentServer,
} from './harness.js';

describe('validating a Client ID Metadata Document', { skip }, () => {
  let server: DocumentServer;
  let dcr: Registration;
  before(async () => {
    server = await startDocumentServer();
    dcr = server.registration();
  });
  after(() => server?.close());
  beforeEach(() => server.reset());

  const lookUp = (make: (clientId: string) => Record<string, unknown>, registration = dcr) =>
    lookUpFresh(server, registration, make);

  describe('client_id must equal the URL byte for byte (CIMD §4.1)', () => {
    const variants: Array<[string, (id: string) => string]> = [
      ['the host in upper case', (id) => id.replace('localhost', 'LOCALHOST')],
      ['the scheme in upper case', (id) => id.replace('https:', 'HTTPS:')],
      ['a trailing slash', (id) => `${id}/`],
      ['a percent-encoded path', (id) => id.replace('/doc-', '/%64oc-')],
      ['another document', (id) => id.replace(/doc-\d+/, 'other')],
    ];
    for (const [name, change] of variants) {
      it(`refuses ${name}`, async () => {
        const lookup = await lookUp((id) => minimalDocument(change(id)));
        refusedWith(lookup, 'invalid_client_metadata', /does not match the URL/);
      });
    }

    it('refuses a document without client_id', async () => {
      const lookup = await lookUp(() => ({ redirect_uris: ['http://127.0.0.1/cb'] }));
      refusedWith(lookup, 'invalid_client_metadata', /does not match the URL/);
    });

    it('refuses ":443" added to a URL without a port (plain string comparison)', () => {
      // A document server on port 443 needs privileges a test run does not have, so the rule is
      // checked where it lives, on the strings a fetch of https://a.example/c would compare.
      assert.throws(
        () => checkDocumentRules(minimalDocument('https://a.example:443/c'), 'https://a.example/c', new Set(['none'])),
        /does not match the URL/,
      );
    });
  });

  describe('no shared secrets (CIMD §4.1)', () => {
    for (const method of ['client_secret_post', 'client_secret_basic', 'client_secret_jwt']) {
      it(`refuses token_endpoint_auth_method ${method}`, async () => {
        const lookup = await lookUp((id) => minimalDocument(id, { token_endpoint_auth_method: method }));
        refusedWith(lookup, 'invalid_client_metadata', new RegExp(`${method}.*shared secret`));
      });
    }
    for (const member of ['client_secret', 'client_secret_expires_at']) {
      it(`refuses a document containing ${member}`, async () => {
        const lookup = await lookUp((id) =>
          minimalDocument(id, { [member]: member === 'client_secret' ? 's3cr3t' : 0 }),
        );
        refusedWith(lookup, 'invalid_client_metadata', new RegExp(`must not contain ${member}`));
      });
    }
  });

  describe('required fields', () => {
    for (const [name, redirects] of [
      ['missing', undefined],
      ['empty', []],
      ['not an array', 'http://127.0.0.1/cb'],
    ] as const) {
      it(`refuses redirect_uris ${name}`, async () => {
        const lookup = await lookUp((id) => ({ client_id: id, redirect_uris: redirects }));
        refusedWith(lookup, 'invalid_client_metadata', /redirect_uris/);
      });
    }

    it('accepts a document without client_name', async () => {
      const client = found(await lookUp((id) => ({ client_id: id, redirect_uris: ['http://127.0.0.1/cb'] })));
      assert.equal(client.metadata.client_name, undefined);
    });
  });

  describe('grant and response types: unsupported values dropped, refused only when none is left', () => {
    it('drops device_code and keeps the rest', async () => {
      const client = found(
        await lookUp((id) =>
          minimalDocument(id, {
            grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
          }),
        ),
      );
      assert.deepEqual(client.metadata.grant_types, ['authorization_code']);
      assert.deepEqual(client.metadata.response_types, ['code']);
    });

    it('drops a grant RFC 7591 names but the deployment does not enable (implicit), with its response type', async () => {
      const client = found(
        await lookUp((id) =>
          minimalDocument(id, { grant_types: ['authorization_code', 'implicit'], response_types: ['code', 'token'] }),
        ),
      );
      assert.deepEqual(client.metadata.grant_types, ['authorization_code']);
      assert.deepEqual(client.metadata.response_types, ['code']);
    });

    it('refuses a document whose grants are all unsupported', async () => {
      const lookup = await lookUp((id) =>
        minimalDocument(id, { grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'password'] }),
      );
      refusedWith(lookup, 'invalid_client_metadata', /None of the requested grant types/);
    });

    it('refuses a document whose response types are all unsupported', async () => {
      const lookup = await lookUp((id) =>
        minimalDocument(id, { grant_types: ['authorization_code'], response_types: ['token', 'code id_token'] }),
      );
      refusedWith(lookup, 'invalid_client_metadata', /response types/);
    });

    it('holds the metadata_document tier ceilings', async () => {
      const narrow = server.registration({
        allowedGrantTypes: ['authorization_code', 'refresh_token'],
        tiers: { metadata_document: { allowedGrantTypes: ['authorization_code'], scopesSupported: ['read'] } },
      });
      const client = found(
        await lookUp(
          (id) => minimalDocument(id, { grant_types: ['authorization_code', 'refresh_token'], scope: 'read write' }),
          narrow,
        ),
      );
      assert.deepEqual(client.metadata.grant_types, ['authorization_code']);
      assert.equal(client.metadata.scope, 'read');
      assert.deepEqual([...narrow.clientLimits(client.registeredVia).allowedGrantTypes], ['authorization_code']);
    });
  });

  describe('the shared metadata rules', () => {
    it('infers native from loopback redirects (no application_type), as for a registration', async () => {
      const client = found(await lookUp((id) => minimalDocument(id, { redirect_uris: ['http://localhost/callback'] })));
      assert.equal(client.metadata.application_type, 'native');
    });

    it('refuses a bad redirect URI, naming it', async () => {
      const lookup = await lookUp((id) => minimalDocument(id, { redirect_uris: ['http://evil.example/cb'] }));
      refusedWith(lookup, 'invalid_client_metadata', /http:\/\/evil\.example\/cb/);
    });

    for (const field of ['client_uri', 'logo_uri', 'policy_uri', 'tos_uri', 'jwks_uri']) {
      it(`refuses an http ${field} (URIs in a document are https)`, async () => {
        const lookup = await lookUp((id) => minimalDocument(id, { [field]: 'http://app.example/x' }));
        refusedWith(lookup, 'invalid_client_metadata', new RegExp(`${field} must use https`));
      });
    }

    it('ignores unknown members and keeps language-tagged ones', async () => {
      const client = found(
        await lookUp((id) =>
          minimalDocument(id, { 'client_name#fr': 'Exemple', x_vendor: { any: 1 }, __proto__: 'x' }),
        ),
      );
      assert.equal(client.metadata['client_name#fr'], 'Exemple');
      assert.equal(client.metadata.x_vendor, undefined);
    });

    it('refuses jwks together with jwks_uri', async () => {
      const lookup = await lookUp((id) =>
        minimalDocument(id, { jwks_uri: 'https://app.example/jwks', jwks: { keys: [PUBLIC_JWK] } }),
      );
      refusedWith(lookup, 'invalid_client_metadata', /jwks and jwks_uri must not both be present/);
    });

    it('refuses private key material in jwks', async () => {
      const lookup = await lookUp((id) => minimalDocument(id, { jwks: { keys: [{ ...PUBLIC_JWK, d: PRIVATE_D }] } }));
      refusedWith(lookup, 'invalid_client_metadata', /must be a public key/);
    });
  });

  describe("the deployment's validateMetadata hook, as for a registration", () => {
    it('is told the client comes from a document, and may replace the metadata', async () => {
      const contexts: RegistrationContext[] = [];
      const hooked = server.registration({
        validateMetadata: (metadata, ctx) => {
          contexts.push(ctx);
          return { ...metadata, client_name: `${metadata.client_name} (document)` };
        },
      });
      const client = found(await lookUp((id) => minimalDocument(id), hooked));
      assert.equal(client.metadata.client_name, 'Example (document)');
      assert.equal(contexts[0]?.registeredVia, 'metadata_document');
      assert.equal(contexts[0]?.url, client.clientId);
    });

    it('a RegistrationError from it refuses the document', async () => {
      const hooked = server.registration({
        validateMetadata: () => {
          throw new RegistrationError('invalid_client_metadata', 'client_uri must be on the allow list');
        },
      });
      refusedWith(
        await lookUp((id) => minimalDocument(id), hooked),
        'invalid_client_metadata',
        /client_uri must be on the allow list/,
      );
    });

    it('any other error refuses the document and is reported to onError', async () => {
      const errors: unknown[] = [];
      const hooked = server.registration({
        onError: (error) => errors.push(error),
        validateMetadata: () => {
          throw new Error('rules database unavailable');
        },
      });
      refusedWith(await lookUp((id) => minimalDocument(id), hooked), 'invalid_client_metadata', /could not be checked/);
      assert.equal((errors[0] as Error).message, 'rules database unavailable');
    });
  });

  describe('where the client comes from', () => {
    it('a stored client with the same id wins, without any fetch (CIMD §6.10)', async () => {
      const clientId = `${server.origin}/preregistered.json`;
      server.serve('/preregistered.json', minimalDocument(clientId));
      const registration = server.registration();
      const record: ClientRecord = {
        clientId,
        metadata: { client_name: 'Operator', redirect_uris: ['https://op.example/cb'] },
        clientIdIssuedAt: 1,
        clientSecretExpiresAt: 0,
        registeredVia: 'admin',
        createdAt: 1,
        updatedAt: 1,
      };
      await registration.store.insertClient(record);
      const client = found(await registration.lookupClient(clientId));
      assert.equal(client.registeredVia, 'admin');
      assert.equal(server.hitsOf('/preregistered.json'), 0);
    });

    it('with documents off, an https client_id is simply unknown', async () => {
      const off = server.registration({ clientIdMetadataDocuments: { enabled: false } });
      const clientId = `${server.origin}/off.json`;
      server.serve('/off.json', minimalDocument(clientId));
      assert.deepEqual(await off.lookupClient(clientId), { kind: 'unknown' });
      assert.equal(await off.resolveClient(clientId), null);
      assert.equal(server.hitsOf('/off.json'), 0);
    });

    it('reports a refused document as an event', async () => {
      const events: AuditEvent[] = [];
      const watched = server.registration({ onEvent: (event) => events.push(event) });
      const clientId = `${server.origin}/watched.json`;
      server.serve('/watched.json', minimalDocument(clientId, { client_secret: 'x' }));
      assert.equal((await watched.lookupClient(clientId)).kind, 'refused');
      // The fetch itself is an event too (client_document.fetched, for metrics); the refusal is one.
      const rejected = events.filter((event) => event.type === 'registration.rejected');
      assert.equal(rejected.length, 1);
      assert.equal(rejected[0]?.clientId, clientId);
      assert.deepEqual(rejected[0]?.detail, {
        via: 'metadata_document',
        error: 'invalid_client_metadata',
        error_description: 'Client ID Metadata Document must not contain client_secret (CIMD §4.1)',
      });
    });
  });
});

/** RFC 7517 Appendix A.1's public EC key, and its private part (A.2). */
const PUBLIC_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4',
  y: '4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM',
};
const PRIVATE_D = '870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE';

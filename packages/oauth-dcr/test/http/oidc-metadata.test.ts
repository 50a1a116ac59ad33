import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair } from 'jose';
import { makeRegistration, register } from '../support/registration.js';
import { makeCertificate, startServer, type LocalServer, type TestCertificate } from '../net/local-https.js';

const web = { redirect_uris: ['https://app.example/cb', 'https://other.example/cb'] };

describe('OpenID Connect DCR 1.0 §2 metadata', () => {
  it('accepts and echoes the OIDC client metadata', async () => {
    const body = {
      ...web,
      application_type: 'web',
      subject_type: 'public',
      id_token_signed_response_alg: 'ES256',
      userinfo_signed_response_alg: 'RS256',
      request_object_signing_alg: 'PS256',
      token_endpoint_auth_signing_alg: 'ES256',
      default_max_age: 3600,
      require_auth_time: true,
      default_acr_values: ['urn:mace:incommon:iap:silver'],
      initiate_login_uri: 'https://app.example/login',
      request_uris: ['https://app.example/request.jwt'],
      post_logout_redirect_uris: ['https://app.example/bye'],
    };
    const res = await register(makeRegistration(), body);
    assert.equal(res.status, 201, res.text);
    for (const [key, value] of Object.entries(body)) assert.deepEqual(res.body[key], value, key);
  });

  const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['subject_type unknown', { subject_type: 'secret' }, 'invalid_client_metadata', /subject_type must be one of/],
    [
      'default_max_age negative',
      { default_max_age: -1 },
      'invalid_client_metadata',
      /default_max_age must be a non-negative integer/,
    ],
    ['default_max_age fractional', { default_max_age: 1.5 }, 'invalid_client_metadata', /default_max_age/],
    [
      'require_auth_time a string',
      { require_auth_time: 'yes' },
      'invalid_client_metadata',
      /require_auth_time must be true or false/,
    ],
    [
      'initiate_login_uri over http',
      { initiate_login_uri: 'http://app.example/login' },
      'invalid_client_metadata',
      /initiate_login_uri must use https/,
    ],
    [
      'request_uris over http',
      { request_uris: ['http://app.example/r'] },
      'invalid_client_metadata',
      /request_uris\[0\] must use https/,
    ],
    [
      'default_acr_values a string',
      { default_acr_values: 'silver' },
      'invalid_client_metadata',
      /default_acr_values must be an array/,
    ],
    [
      'an unknown signing alg',
      { id_token_signed_response_alg: 'FOO' },
      'invalid_client_metadata',
      /id_token_signed_response_alg must be a supported JWS algorithm/,
    ],
    [
      'token_endpoint_auth_signing_alg none',
      { token_endpoint_auth_signing_alg: 'none' },
      'invalid_client_metadata',
      /must not be 'none'/,
    ],
    [
      'post_logout_redirect_uris javascript',
      { post_logout_redirect_uris: ['javascript:alert(1)'] },
      'invalid_redirect_uri',
      /javascript/,
    ],
    [
      'sector_identifier_uri over http',
      { sector_identifier_uri: 'http://app.example/s.json' },
      'invalid_client_metadata',
      /sector_identifier_uri must use https/,
    ],
    [
      'pairwise across hosts without a sector identifier',
      { subject_type: 'pairwise' },
      'invalid_client_metadata',
      /requires sector_identifier_uri/,
    ],
  ];
  for (const [name, extra, code, message] of bad) {
    it(`refuses ${name}`, async () => {
      const res = await register(makeRegistration(), { ...web, ...extra });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error, code);
      assert.match(res.body.error_description, message);
    });
  }

  it('private_key_jwt (when enabled) requires jwks or jwks_uri, and accepts valid public keys', async () => {
    const dcr = makeRegistration({ tokenEndpointAuthMethods: ['none', 'private_key_jwt'] });
    const missing = await register(dcr, { ...web, token_endpoint_auth_method: 'private_key_jwt' });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error_description, /private_key_jwt requires jwks or jwks_uri/);
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const ok = await register(dcr, {
      ...web,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [await exportJWK(publicKey)] },
    });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.client_secret, undefined, 'a key-based client gets no secret');
  });

  it('private_key_jwt is refused when the deployment does not enable it', async () => {
    const res = await register(makeRegistration(), {
      ...web,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://app.example/jwks',
    });
    assert.equal(res.status, 400);
    assert.match(res.body.error_description, /private_key_jwt' is not supported/);
  });
});

describe('sector_identifier_uri (OIDC DCR §5), fetched through safe-fetch', () => {
  let certificate: TestCertificate | undefined;
  let server: LocalServer | undefined;
  before(async () => {
    const made = makeCertificate();
    if ('skip' in made) return;
    certificate = made;
    server = await startServer(certificate, (req, res) => {
      const body =
        req.url === '/all.json'
          ? web.redirect_uris
          : req.url === '/partial.json'
            ? [web.redirect_uris[0]]
            : { not: 'an array' };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  after(() => server?.close());

  const allowed = () => makeRegistration({ outboundFetch: { allowAddresses: ['127.0.0.1'], ca: certificate!.cert } });

  it('accepts a sector document that lists every redirect URI', async (t) => {
    if (!server) return t.skip('openssl unavailable');
    const res = await register(allowed(), {
      ...web,
      subject_type: 'pairwise',
      sector_identifier_uri: `${server.origin}/all.json`,
    });
    assert.equal(res.status, 201, res.text);
  });

  it('refuses a redirect URI the document does not list, naming it', async (t) => {
    if (!server) return t.skip('openssl unavailable');
    const res = await register(allowed(), { ...web, sector_identifier_uri: `${server.origin}/partial.json` });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_redirect_uri');
    assert.match(res.body.error_description, /other.example/);
  });

  it('refuses a document that is not an array', async (t) => {
    if (!server) return t.skip('openssl unavailable');
    const res = await register(allowed(), { ...web, sector_identifier_uri: `${server.origin}/object.json` });
    assert.equal(res.body.error, 'invalid_client_metadata');
    assert.match(res.body.error_description, /JSON array/);
  });

  it("never fetches from a private address on a client's say-so", async (t) => {
    if (!server) return t.skip('openssl unavailable');
    const res = await register(makeRegistration(), { ...web, sector_identifier_uri: `${server.origin}/all.json` });
    assert.equal(res.status, 400);
    assert.match(res.body.error_description, /could not be fetched \(blocked_address\)/);
    assert.equal(server.requests.length, 3, 'no request reached the server');
  });
});

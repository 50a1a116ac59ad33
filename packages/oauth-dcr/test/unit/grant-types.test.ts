import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkGrantsForAuthMethod, resolveGrantAndResponseTypes } from '../../src/metadata/grant-types.js';

const defaults = new Set(['authorization_code', 'refresh_token']);
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';

describe('resolveGrantAndResponseTypes (RFC 7591 §2, §2.1; RFC 9700)', () => {
  it('defaults to authorization_code and code', () => {
    assert.deepEqual(resolveGrantAndResponseTypes(undefined, undefined, defaults), {
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
    });
  });

  it('keeps refresh_token with authorization_code', () => {
    assert.deepEqual(
      resolveGrantAndResponseTypes(['authorization_code', 'refresh_token'], ['code'], defaults).grantTypes,
      ['authorization_code', 'refresh_token'],
    );
  });

  for (const grant of [
    'implicit',
    'password',
    'client_credentials',
    'urn:ietf:params:oauth:grant-type:jwt-bearer',
    'urn:ietf:params:oauth:grant-type:saml2-bearer',
  ]) {
    it(`refuses ${grant} unless enabled, in the seed's words`, () => {
      assert.throws(() => resolveGrantAndResponseTypes(['authorization_code', grant], undefined, defaults), {
        code: 'invalid_client_metadata',
        message: `Grant type '${grant}' is not allowed for dynamic registration`,
      });
    });
  }

  it('drops an unsupported extension grant (VS Code sends device_code) and says what was registered', () => {
    const { grantTypes } = resolveGrantAndResponseTypes(
      ['authorization_code', DEVICE, 'refresh_token'],
      ['code'],
      defaults,
    );
    assert.deepEqual(grantTypes, ['authorization_code', 'refresh_token']);
  });

  it('keeps an extension grant the deployment enabled', () => {
    const { grantTypes } = resolveGrantAndResponseTypes(
      ['authorization_code', DEVICE],
      undefined,
      new Set([...defaults, DEVICE]),
    );
    assert.deepEqual(grantTypes, ['authorization_code', DEVICE]);
  });

  it('refuses a request whose grants are all unsupported', () => {
    assert.throws(() => resolveGrantAndResponseTypes([DEVICE], undefined, defaults), {
      code: 'invalid_client_metadata',
    });
  });

  it('refuses response type code without the authorization_code grant', () => {
    const allowed = new Set([...defaults, 'client_credentials']);
    assert.throws(
      () => resolveGrantAndResponseTypes(['client_credentials'], ['code'], allowed),
      /requires grant type 'authorization_code'/,
    );
  });

  it('refuses the authorization_code grant without response type code', () => {
    assert.throws(
      () => resolveGrantAndResponseTypes(['authorization_code'], ['none'], defaults),
      /requires response type 'code'/,
    );
  });

  it('refuses response type token when implicit is not enabled', () => {
    assert.throws(
      () => resolveGrantAndResponseTypes(undefined, ['token'], defaults),
      /Grant type 'implicit' is not allowed/,
    );
  });

  it('accepts implicit when the deployment enables it', () => {
    const allowed = new Set([...defaults, 'implicit']);
    assert.deepEqual(resolveGrantAndResponseTypes(['implicit'], ['token'], allowed), {
      grantTypes: ['implicit'],
      responseTypes: ['token'],
    });
  });

  it('gives a client_credentials-only client no response types', () => {
    const allowed = new Set([...defaults, 'client_credentials']);
    assert.deepEqual(resolveGrantAndResponseTypes(['client_credentials'], undefined, allowed), {
      grantTypes: ['client_credentials'],
      responseTypes: [],
    });
  });

  it('refuses unknown response types', () => {
    assert.throws(
      () => resolveGrantAndResponseTypes(undefined, ['code', 'banana'], defaults),
      /not a supported response type/,
    );
  });
});

describe('checkGrantsForAuthMethod (RFC 6749 §4.4)', () => {
  const cases: Array<[string[], string, boolean]> = [
    [['client_credentials'], 'none', false],
    [['authorization_code', 'client_credentials'], 'none', false],
    [['client_credentials'], 'client_secret_basic', true],
    [['client_credentials'], 'client_secret_post', true],
    [['client_credentials'], 'private_key_jwt', true],
    [['authorization_code', 'refresh_token'], 'none', true],
  ];
  for (const [grants, method, allowed] of cases) {
    it(`${allowed ? 'accepts' : 'refuses'} ${grants.join(' + ')} with ${method}`, () => {
      if (allowed) assert.doesNotThrow(() => checkGrantsForAuthMethod(grants, method));
      else {
        assert.throws(() => checkGrantsForAuthMethod(grants, method), {
          code: 'invalid_client_metadata',
          message: /'client_credentials' requires client authentication \(RFC 6749 §4\.4\)/,
        });
      }
    });
  }
});

/**
 * RFC 6749 §2.3 / RFC 7591 §2: a client authenticates with the method it registered. The
 * oauth2-server integration holds that rule in two places, each exported and each a defence on
 * its own, so each is tested on its own (through HTTP the other one hides a slip in either):
 * - `oauth2ServerClients(...).getClient(id, secret)`: a secret authenticates only a client that
 *   registered a client_secret_* method; a public client (`none`) showing any secret is refused.
 * - `holdToRegisteredAuthMethod(model, used)`: the method the request used must be the one the
 *   client registered (`checkClientAuthMethod`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import OAuth2Server from '@node-oauth/oauth2-server';
import { holdToRegisteredAuthMethod, oauth2ServerClients } from 'oauth-dcr/oauth2-server';
import { checkClientAuthMethod } from '../../src/index.js';
import { makeRegistration, register } from '../support/registration.js';

async function setUp() {
  const dcr = makeRegistration();
  const base = {
    redirect_uris: ['https://app.example.com/cb'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  };
  const publicClient = await register(dcr, { ...base, token_endpoint_auth_method: 'none' });
  const basicClient = await register(dcr, { ...base, token_endpoint_auth_method: 'client_secret_basic' });
  assert.equal(publicClient.status, 201, publicClient.text);
  assert.equal(basicClient.status, 201, basicClient.text);
  return { dcr, model: oauth2ServerClients(dcr), publicClient: publicClient.body, basicClient: basicClient.body };
}

describe('getClient: a secret authenticates only a client that registered one', () => {
  it('refuses a public client showing a secret, and answers it without one', async () => {
    const { model, publicClient } = await setUp();
    assert.equal(await model.getClient(publicClient.client_id, 'x'), null);
    assert.equal(await model.getClient(publicClient.client_id, publicClient.registration_access_token), null);
    assert.equal((await model.getClient(publicClient.client_id, undefined))?.id, publicClient.client_id);
  });

  it('answers a confidential client only with its own secret', async () => {
    const { model, basicClient } = await setUp();
    assert.equal((await model.getClient(basicClient.client_id, basicClient.client_secret))?.id, basicClient.client_id);
    assert.equal(await model.getClient(basicClient.client_id, 'x'), null);
    assert.equal(await model.getClient(basicClient.client_id, undefined), null);
    assert.equal(await model.getClient(basicClient.client_id, ''), null);
  });
});

describe('holdToRegisteredAuthMethod: the method used must be the one registered', () => {
  it('throws invalid_client for a public client that used client_secret_post or client_secret_basic', async () => {
    const { model, publicClient } = await setUp();
    // The wrapped model is asked with no secret, so the refusal is the wrapper's own.
    for (const used of ['client_secret_post', 'client_secret_basic'] as const) {
      await assert.rejects(
        holdToRegisteredAuthMethod(model, used).getClient(publicClient.client_id, undefined),
        (error: unknown) => error instanceof OAuth2Server.InvalidClientError,
        used,
      );
    }
  });

  it('throws invalid_client for a client_secret_basic client that used client_secret_post, with its right secret', async () => {
    const { model, basicClient } = await setUp();
    await assert.rejects(
      holdToRegisteredAuthMethod(model, 'client_secret_post').getClient(
        basicClient.client_id,
        basicClient.client_secret,
      ),
      (error: unknown) => error instanceof OAuth2Server.InvalidClientError,
    );
    const held = holdToRegisteredAuthMethod(model, 'client_secret_basic');
    assert.equal((await held.getClient(basicClient.client_id, basicClient.client_secret))?.id, basicClient.client_id);
  });

  it('checkClientAuthMethod refuses every mismatch, none included', () => {
    const methods = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
    for (const registered of methods) {
      for (const used of methods) {
        const refusal = checkClientAuthMethod(registered, used);
        if (registered === used) assert.equal(refusal, undefined);
        else assert.match(refusal ?? '', new RegExp(`registered token_endpoint_auth_method ${registered}`));
      }
    }
  });
});

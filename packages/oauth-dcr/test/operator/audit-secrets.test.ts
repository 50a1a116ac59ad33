import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistration, hashSecret } from '../../src/index.js';
import { REDACTED, redactDetail } from '../../src/protocol/events.js';
import { bearer, register, send } from '../support/registration.js';
import { eventually, storeKinds } from './stores.js';

/**
 * The persisted audit trail never holds a secret, a token, a hash or a request body. A full flow
 * (initial access token, registration, RFC 7592 read, update with token rotation, secret renewal,
 * refusals, operator actions, deletion) runs against each store; then every table row of the
 * audit trail, as the database holds it, is searched for every credential issued and its hash.
 */
const MARKER = 'https://marker.example/policy-only-in-the-body';

for (const kind of storeKinds()) {
  describe(`the audit trail on the ${kind.name} store`, () => {
    it('holds none of the secrets, tokens or hashes issued in a full flow, and no request body', async () => {
      const { store, rawAuditRows } = await kind.open();
      const registration = createRegistration({
        store,
        issuer: 'https://as.example.com',
        openRegistration: false,
        persistAuditEvents: true,
        onError: () => {},
      });
      const issued: string[] = [];
      const collect = (body: Record<string, unknown>) => {
        for (const key of ['client_secret', 'registration_access_token']) {
          if (typeof body[key] === 'string') issued.push(body[key] as string);
        }
      };

      const { token: initialAccessToken, record: iat } = await registration.initialAccessTokens.create({ uses: 5 });
      issued.push(initialAccessToken);
      const metadata = {
        client_name: 'Audited',
        redirect_uris: ['https://app.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
        policy_uri: MARKER,
        // Clients send what they like: a chosen "secret" is ignored metadata, never kept.
        client_secret: 'client-chosen-secret-value-1234',
      };
      const created = await register(registration, metadata, bearer(initialAccessToken));
      assert.equal(created.status, 201, created.text);
      collect(created.body);
      issued.push('client-chosen-secret-value-1234');
      const clientId = created.body.client_id as string;
      const path = `/register/${clientId}`;

      // Refusals: a wrong initial access token, a wrong registration token, bad metadata with a secret in it.
      await register(registration, metadata, bearer('wrong-initial-access-token-5678'));
      issued.push('wrong-initial-access-token-5678');
      await send(registration, 'GET', path, undefined, bearer('wrong-registration-token-9012'));
      issued.push('wrong-registration-token-9012');
      await register(
        registration,
        { ...metadata, redirect_uris: ['http://evil.example/cb'] },
        bearer(initialAccessToken),
      );

      const read = await send(registration, 'GET', path, undefined, bearer(created.body.registration_access_token));
      assert.equal(read.status, 200);
      const {
        registration_access_token,
        registration_client_uri,
        client_secret_expires_at,
        client_id_issued_at,
        ...rest
      } = created.body;
      const updated = await send(
        registration,
        'PUT',
        path,
        { ...rest, client_name: 'Audited, updated' },
        bearer(registration_access_token),
      );
      assert.equal(updated.status, 200, updated.text);
      collect(updated.body);
      const currentToken = updated.body.registration_access_token as string;
      const renewed = await send(registration, 'POST', `${path}/secret`, undefined, bearer(currentToken));
      assert.equal(renewed.status, 200, renewed.text);
      collect(renewed.body);

      const operatorClient = await registration.operator.create({
        metadata: {
          client_name: 'Operator',
          redirect_uris: ['https://ops.example/cb'],
          token_endpoint_auth_method: 'client_secret_post',
        },
        rights: ['introspection'],
        actor: 'alice',
      });
      collect(operatorClient.information);
      await registration.operator.disable(operatorClient.client.clientId, 'alice');
      await registration.operator.enable(operatorClient.client.clientId, 'alice');
      assert.equal((await send(registration, 'DELETE', path, undefined, bearer(currentToken))).status, 204);
      await registration.initialAccessTokens.revoke(iat.id);

      assert.ok(issued.length >= 9, `credentials issued: ${issued.length}`);
      const expected = [
        'client.registered',
        'registration.rejected',
        'token.rejected',
        'registration.rejected',
        'client.updated',
        'client.secret_renewed',
        'client.registered',
        'client.disabled',
        'client.enabled',
        'client.deleted',
      ];
      const trail = await eventually(
        () => store.listAuditEvents({ limit: 1000 }),
        (events) => {
          for (const type of expected)
            assert.ok(
              events.some((event) => event.type === type),
              type,
            );
        },
      );
      const stored = rawAuditRows ? await rawAuditRows() : JSON.stringify(trail);
      // The scan reads the rows themselves: they name the client and the operator.
      assert.ok(stored.includes(clientId) && stored.includes('alice'), 'the scan reads the stored trail');
      for (const credential of issued) {
        assert.ok(!stored.includes(credential), `the trail holds an issued credential`);
        assert.ok(!stored.includes(hashSecret(credential)), `the trail holds a credential's hash`);
      }
      assert.ok(!stored.includes(MARKER), 'the trail holds a request body');
    });
  });
}

describe('the redaction guard on event details', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    [
      'secrets by key',
      { client_secret: 's', clientSecret: 's', password: 'p' },
      { client_secret: REDACTED, clientSecret: REDACTED, password: REDACTED },
    ],
    [
      'tokens and hashes by key, not token_endpoint_auth_method',
      { registration_access_token: 't', refreshToken: 't', secretHash: 'h', token_endpoint_auth_method: 'none' },
      {
        registration_access_token: REDACTED,
        refreshToken: REDACTED,
        secretHash: REDACTED,
        token_endpoint_auth_method: 'none',
      },
    ],
    [
      'assertions, codes, verifiers, cookies, Authorization, bodies',
      { client_assertion: 'a', code: 'c', code_verifier: 'v', cookie: 'k', authorization: 'Bearer x', body: '{}' },
      {
        client_assertion: REDACTED,
        code: REDACTED,
        code_verifier: REDACTED,
        cookie: REDACTED,
        authorization: REDACTED,
        body: REDACTED,
      },
    ],
    ['flags about tokens stay', { rotated_token: true }, { rotated_token: true }],
    [
      'nested',
      { request: { headers: { authorization: 'Basic x' } } },
      { request: { headers: { authorization: REDACTED } } },
    ],
    ['in arrays', { items: [{ access_token: 'x', name: 'n' }] }, { items: [{ access_token: REDACTED, name: 'n' }] }],
    ['long strings cut', { error_description: 'x'.repeat(5000) }, { error_description: `${'x'.repeat(1024)}…` }],
  ];
  for (const [name, detail, redacted] of cases) {
    it(name, () => assert.deepEqual(redactDetail(detail), redacted));
  }
});

import OAuth2Server from '@node-oauth/oauth2-server';
import {
  createClientAttestationVerifier,
  createRegistration,
  type AuditEvent,
  type ClientAttestationOptions,
} from 'oauth-dcr';
import { ATTESTATION_CHALLENGE_PATH } from './routes/attestation-challenge.js';
import { clientRevoker } from './client-lifecycle.js';
import type { ServerConfig } from './config.js';
import { clientAddressOf, type ServerContext } from './context.js';
import type { Logger } from './logger.js';
import { LoginThrottle, redisLoginLimiters } from './login-throttle.js';
import { createServerMetrics } from './metrics.js';
import { createModel } from './model.js';
import { registrationFetchOptions } from './outbound-fetch.js';
import type { RedisConnection } from './redis.js';
import { registrationLimitOptions } from './registration-limits.js';
import { ResourcePolicy } from './resources.js';
import { SessionStore } from './sessions.js';
import { openSigningKeys } from './storage/maintenance.js';
import type { ServerStorage } from './storage/open-storage.js';

/** Everything the routes share, built once the storage is open and the issuer known. */
export async function buildContext(
  config: ServerConfig,
  issuer: string,
  storage: ServerStorage,
  logger: Logger,
  redis: RedisConnection | undefined,
): Promise<ServerContext> {
  // Prometheus on its own listener (DCR_METRICS_PORT), with clients per tier read from the store.
  const metrics = createServerMetrics(config, storage.clients);
  const revoke = clientRevoker(storage, logger);
  // Client attestation (DCR_ATTESTERS): PoP jti values are used once across every instance on
  // this database, in the same table as client assertions' (draft §11.1).
  const attestation: ClientAttestationOptions | undefined = config.clientAttestation && {
    ...config.clientAttestation.options,
    replayGuard: storage.usedClientAssertions,
    ...(config.clientAttestation.challengeSecret !== undefined
      ? {
          challenge: {
            secret: config.clientAttestation.challengeSecret,
            endpoint: `${issuer}${ATTESTATION_CHALLENGE_PATH}`,
          },
        }
      : {}),
  };
  const registration = createRegistration({
    store: storage.clients,
    issuer,
    registrationPath: '/register',
    allowedGrantTypes: config.registration.allowedGrantTypes,
    openRegistration: config.registration.openRegistration,
    requireHttpsRedirectUris: config.registration.requireHttpsRedirectUris,
    clientSecretTtl: config.registration.clientSecretTtl,
    persistAuditEvents: config.registration.persistAuditEvents,
    ...(config.registration.scopesSupported ? { scopesSupported: config.registration.scopesSupported } : {}),
    // Client ID Metadata Documents (DCR_CIMD) and the outbound fetch allow list (DCR_FETCH_ALLOW).
    ...registrationFetchOptions(config),
    // Rate limits (counters in Redis when REDIS_URL is set), caps, address lists, trusted
    // proxies, de-duplication, the idle-client rules and the audit retention.
    ...registrationLimitOptions(config, redis?.client),
    // private_key_jwt (RFC 7523 §2.2) beside the secret methods: /token, /revoke and /introspect
    // verify client assertions (routes/client-authentication.ts), and a jti is used once across
    // every instance on this database (RFC 7523 §3).
    tokenEndpointAuthMethods: [
      'none',
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      ...(attestation ? ['attest_jwt_client_auth'] : []),
    ],
    clientAssertions: { replayGuard: storage.usedClientAssertions },
    ...(attestation ? { clientAttestation: attestation } : {}),
    onEvent: (event) => {
      metrics.onEvent(event);
      void revoke(event);
      onRegistrationEvent(event, logger);
    },
    onError: (error) => logger.error({ err: error }, 'registration endpoint error'),
  });
  const signingKeys = await openSigningKeys(config, storage);
  const model = createModel({
    registration,
    tokens: storage.tokens,
    users: storage.users,
    logger,
    jwt: { issuer, keys: signingKeys, lifetime: config.lifetimes.accessToken },
    offlineAccessScope: registration.serverMetadata().scopes_supported?.includes('offline_access') ?? false,
  });
  const oauth = new OAuth2Server({
    model,
    // The model's getClient decides: public clients pass without a secret, confidential ones
    // do not (see src/integrations/oauth2-server.ts). client_credentials always needs a secret.
    requireClientAuthentication: { authorization_code: false, refresh_token: false },
    authorizationCodeLifetime: config.lifetimes.authorizationCode,
    accessTokenLifetime: config.lifetimes.accessToken,
    refreshTokenLifetime: config.lifetimes.refreshToken,
    alwaysIssueNewRefreshToken: true,
    allowBearerTokensInQueryString: false,
    allowEmptyState: true,
  });
  return {
    issuer,
    basePath: new URL(issuer).pathname.replace(/\/+$/, ''),
    resource: issuer,
    resources: new ResourcePolicy({
      own: issuer,
      ...(config.resources.list ? { list: config.resources.list } : {}),
      ...(config.resources.default ? { default: config.resources.default } : {}),
    }),
    signingKeys,
    introspectionClients: config.introspectionClients,
    operators: config.operators,
    registration,
    ...(attestation
      ? {
          clientAttestation: createClientAttestationVerifier({
            ...attestation,
            issuer,
            // Allow-listed jku key sets are fetched like every other outbound document.
            outboundFetch: registrationFetchOptions(config).outboundFetch ?? {},
          }),
        }
      : {}),
    oauth,
    model,
    storage,
    // Sign-in sessions and pending consent live in the database: every instance sees them.
    sessions: new SessionStore({ secure: issuer.startsWith('https:'), storage: storage.sessions }),
    // With REDIS_URL every instance counts sign-in attempts together; without Redis, per process.
    loginThrottle: new LoginThrottle({
      ...(redis ? { limiters: redisLoginLimiters(redis.client) } : {}),
      onStoreError: (error) =>
        logger.warn({ err: error }, 'sign-in refused: the login throttle cannot reach its counters (fail-closed)'),
    }),
    metrics,
    logger,
    clientAddress: clientAddressOf(registration),
  };
}

/** The registration's audit events go to the log. */
function onRegistrationEvent(event: AuditEvent, logger: Logger): void {
  // Reads change nothing and can be frequent; they are debug. Every change and refusal is info.
  const level = event.type === 'client.read' ? 'debug' : 'info';
  if (level === 'debug' && !logger.isLevelEnabled('debug')) return;
  logger[level](
    { event: event.type, clientId: event.clientId, actor: event.actor, detail: event.detail },
    'registration event',
  );
}

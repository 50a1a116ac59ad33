import type { LimitName, ResolvedRateLimits } from '../core/limit-options.js';
import type { ResolvedOptions } from '../core/options.js';
import type { AuditEvent } from '../store/types.js';
import { createOpenRegistrationGate } from './address-lists.js';
import type { RateLimitRefusal } from './authentication-limits.js';
import { createAuthenticationLimits, type AuthenticationLimiter } from './failed-authentication.js';
import { addressKey, createClientAddressResolver, type ClientAddressResolver } from './client-address.js';
import {
  createKeyedLimiter,
  memoryLimiterStore,
  redisLimiterStore,
  type KeyedLimiter,
  type LimiterStore,
} from './rate-limiter.js';
import { createRefusalJudge, type LimitKind, type RefusalJudge } from './refusal.js';
import { createRegistrationCaps, type RegistrationCapGuard } from './registration-caps.js';

/** What the limits need from the endpoint: its options, and a way to report an event. */
export interface LimitsInput {
  options: ResolvedOptions;
  emit: (event: Omit<AuditEvent, 'at'>) => void;
}

/** The abuse controls, built once where the endpoint is created (protocol/policy.ts). */
export interface Limits {
  /** The client address from the socket's peer and X-Forwarded-For (trustProxy). */
  clientAddress: ClientAddressResolver;
  /** Failed client authentication, per client_id and per address. */
  authentication: AuthenticationLimiter;
  /** Before a registration's body is read: per client address, and per initial access token when one is presented. */
  registrationRequest(request: { address?: string; initialAccessTokenHash?: string }): Promise<RateLimitRefusal | null>;
  /** Once the metadata is read: per software (`software_id`, or the statement's issuer and `software_id`). */
  registrationSoftware(softwareKey: string, address?: string): Promise<RateLimitRefusal | null>;
  /** Before a Client ID Metadata Document is fetched (a cache miss): per document host. */
  documentHost(host: string): Promise<RateLimitRefusal | null>;
  /** Whether this address may register without a token (registrationAddresses). */
  mayRegisterOpenly(address: string | undefined): boolean;
  /** Registration caps, when any is set. */
  caps: RegistrationCapGuard | undefined;
}

const REGISTRATION = 'registration';

export function createLimits(input: LimitsInput): Limits {
  const { options, emit } = input;
  const judge = createRefusalJudge({
    emit,
    onError: options.onError,
    onStoreError: options.rateLimits === false ? 'open' : options.rateLimits.onStoreError,
  });
  const limiter = limiterFactory(options.rateLimits);
  const perAddress = limiter('perAddress');
  const perToken = limiter('perInitialAccessToken');
  const perSoftware = limiter('perSoftware');
  const perHost = limiter('perDocumentHost');
  const openGate = createOpenRegistrationGate(options.registrationAddresses);

  return {
    clientAddress: createClientAddressResolver(options.trustProxy),
    authentication: createAuthenticationLimits({
      perClient: limiter('failedAuthPerClient'),
      perAddress: limiter('failedAuthPerAddress'),
      judge,
      emit,
    }),
    async registrationRequest({ address, initialAccessTokenHash }) {
      // A request whose address is not known (a Web Request handed over without one) has no
      // per-address count; the adapters always give one.
      if (perAddress !== undefined && address !== undefined) {
        const verdict = await perAddress.consume(addressKey(address));
        const refusal = judge.judge(verdict, 'address', REGISTRATION, { address });
        if (refusal) {
          if (verdict.kind === 'refused' && !verdict.first) await holdRepeatedRefusal();
          return refusal;
        }
      }
      if (perToken !== undefined && initialAccessTokenHash !== undefined) {
        return count(judge, perToken, initialAccessTokenHash, 'initial_access_token', address);
      }
      return null;
    },
    registrationSoftware: async (softwareKey, address) =>
      perSoftware === undefined ? null : count(judge, perSoftware, softwareKey, 'software', address),
    documentHost: async (host) =>
      perHost === undefined ? null : count(judge, perHost, host, 'document_host', undefined, 'client_document'),
    mayRegisterOpenly: openGate ?? (() => true),
    caps: createRegistrationCaps(options.registrationCaps, options.store, options.now),
  };
}

/**
 * How long a repeated refusal of one address is held before it is answered. A flooding client
 * that waits for each answer (as almost every HTTP client does, on each of its connections) is
 * slowed to a few requests a second per connection, so the server stops spending its one thread on
 * an address it already refuses, and other addresses keep their latency. The first refusal of a
 * window is answered at once, and a held answer costs a timer, not CPU.
 */
const REPEATED_REFUSAL_DELAY_MS = 250;

function holdRepeatedRefusal(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, REPEATED_REFUSAL_DELAY_MS));
}

async function count(
  judge: RefusalJudge,
  limiter: KeyedLimiter,
  key: string,
  kind: LimitKind,
  address: string | undefined,
  endpoint = REGISTRATION,
): Promise<RateLimitRefusal | null> {
  return judge.judge(await limiter.consume(key), kind, endpoint, { address });
}

/** Builds the limiter of each limit that is on, all over one counter store. */
function limiterFactory(rateLimits: ResolvedRateLimits | false): (name: LimitName) => KeyedLimiter | undefined {
  if (rateLimits === false) return () => undefined;
  let store: LimiterStore | undefined;
  return (name) => {
    const limit = rateLimits.limits[name];
    if (limit === null) return undefined;
    store ??= rateLimits.store.kind === 'redis' ? redisLimiterStore(rateLimits.store) : memoryLimiterStore();
    return createKeyedLimiter(store, name, limit);
  };
}

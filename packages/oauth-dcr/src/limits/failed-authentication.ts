import type { AuditEvent } from '../store/types.js';
import type { AuthenticationLimits, FailedAuthentication, RateLimitRefusal } from './authentication-limits.js';
import { addressKey } from './client-address.js';
import type { KeyedLimiter } from './rate-limiter.js';
import type { RefusalJudge } from './refusal.js';

export interface AuthenticationLimitsSetup {
  perClient: KeyedLimiter | undefined;
  perAddress: KeyedLimiter | undefined;
  judge: RefusalJudge;
  emit: (event: Omit<AuditEvent, 'at'>) => void;
}

/** AuthenticationLimits plus the count without an event, for endpoints that report failures their own way. */
export interface AuthenticationLimiter extends AuthenticationLimits {
  countFailure(input: FailedAuthentication): Promise<RateLimitRefusal | null>;
}

export function createAuthenticationLimits(setup: AuthenticationLimitsSetup): AuthenticationLimiter {
  const { perClient, perAddress, judge } = setup;

  async function countFailure(input: FailedAuthentication): Promise<RateLimitRefusal | null> {
    const { clientId, address, endpoint } = input;
    // Both counts move on every failure, so neither key can hide behind the other's refusal.
    const [byClient, byAddress] = await Promise.all([
      perClient && clientId !== undefined ? perClient.consume(clientId) : undefined,
      perAddress && address !== undefined ? perAddress.consume(addressKey(address)) : undefined,
    ]);
    const who = { address, clientId };
    const clientRefusal = byClient && judge.judge(byClient, 'failed_auth_client', endpoint, who);
    const addressRefusal = byAddress && judge.judge(byAddress, 'failed_auth_address', endpoint, who);
    return addressRefusal ?? clientRefusal ?? null;
  }

  return {
    async checkAddress(address, endpoint) {
      if (perAddress === undefined || address === undefined) return null;
      const verdict = await perAddress.spent(addressKey(address));
      return judge.judge(verdict, 'failed_auth_address', endpoint, { address });
    },
    async recordFailure(input) {
      const refusal = await countFailure(input);
      // A failure past the limit is reported once per window as request.rate_limited instead.
      if (refusal === null) {
        const event: Omit<AuditEvent, 'at'> = {
          type: 'client.authentication_failed',
          detail: { endpoint: input.endpoint },
        };
        if (input.clientId !== undefined) event.clientId = input.clientId;
        if (input.address !== undefined) event.ip = input.address;
        setup.emit(event);
      }
      return refusal;
    },
    countFailure,
  };
}

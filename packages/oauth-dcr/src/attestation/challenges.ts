import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AttestationChallengeOptions } from '../core/attestation-options.js';

/**
 * Stateless attestation challenges (draft-ietf-oauth-attestation-based-client-auth-10 §6): an
 * HMAC-SHA256 of a server secret and a time step, so every instance sharing the secret issues and
 * accepts the same challenges without storage. Replay of a PoP within a challenge's life is the
 * `jti` store's job (§11.1), not the challenge's.
 */
export interface AttestationChallenges {
  /** A challenge for now, for the challenge endpoint (§6.1) and the response header (§6.2). */
  issue(): string;
  /** Whether `value` is a challenge this server issued within the last `validSteps` steps. */
  isValid(value: unknown): boolean;
}

const DOMAIN = 'oauth-client-attestation-challenge';

export function createAttestationChallenges(
  options: AttestationChallengeOptions,
  now: () => number,
): AttestationChallenges {
  const stepSeconds = options.stepSeconds ?? 60;
  const validSteps = options.validSteps ?? 5;
  const mac = (step: number) =>
    createHmac('sha256', options.secret).update(`${DOMAIN}.${step}`).digest().subarray(0, 24).toString('base64url');
  const currentStep = () => Math.floor(now() / stepSeconds);
  return {
    issue() {
      const step = currentStep();
      return `${step.toString(36)}.${mac(step)}`;
    },
    isValid(value) {
      if (typeof value !== 'string') return false;
      const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{32})$/.exec(value);
      if (!match) return false;
      const step = Number.parseInt(match[1]!, 36);
      const current = currentStep();
      if (step > current || step <= current - validSteps) return false;
      const expected = Buffer.from(mac(step));
      const given = Buffer.from(match[2]!);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}

import type { ClientAttestationOptions } from '../core/attestation-options.js';
import { ATTESTATION_ALGORITHMS } from './attestation-jwt.js';

/**
 * Checks `clientAttestation` once, at start-up: a bad value is a TypeError then, never a
 * surprise on a request.
 */
export function checkAttestationOptions(options: ClientAttestationOptions): void {
  const fail = (message: string): never => {
    throw new TypeError(`oauth-dcr: clientAttestation.${message}`);
  };
  if (!options || typeof options !== 'object') fail('must be an object');
  if (!Array.isArray(options.attesters) || options.attesters.length === 0) fail('attesters must be a non-empty array');
  const ids = new Set<string>();
  for (const [index, attester] of options.attesters.entries()) {
    const name = `attesters[${index}]`;
    if (typeof attester?.id !== 'string' || attester.id === '') fail(`${name}.id must be a non-empty string`);
    if (ids.has(attester.id)) fail(`${name}.id ${attester.id} is used twice`);
    ids.add(attester.id);
    if (attester.jwks === undefined && attester.jku === undefined) fail(`${name} needs jwks or jku`);
    if (attester.jku !== undefined) {
      if (
        !Array.isArray(attester.jku) ||
        attester.jku.some((url) => typeof url !== 'string' || !url.startsWith('https://'))
      ) {
        fail(`${name}.jku must be an array of https URLs`);
      }
    }
    const keys = attester.jwks === undefined ? [] : attester.jwks.keys;
    if (attester.jwks !== undefined && (!Array.isArray(keys) || keys.length === 0)) fail(`${name}.jwks must have keys`);
    for (const key of keys) {
      // §11.2: signatures only; a private or symmetric key in a trust list is a leak or a mistake.
      if (key.kty === 'oct' || 'd' in key) fail(`${name}.jwks must hold public keys only`);
    }
    for (const alg of attester.algorithms ?? []) {
      if (!ATTESTATION_ALGORITHMS.includes(alg)) fail(`${name}.algorithms: ${alg} is not an accepted algorithm`);
    }
    const lists = [attester.clientIds, attester.softwareIds, attester.domains];
    for (const list of lists) {
      if (list !== undefined && (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v === ''))) {
        fail(`${name}: clientIds, softwareIds and domains must be arrays of non-empty strings`);
      }
    }
    if (lists.every((list) => list === undefined || list.length === 0)) {
      fail(`${name} vouches for nothing: set clientIds, softwareIds or domains`);
    }
  }
  const positive = (value: unknown, label: string) => {
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
      fail(`${label} must be a whole number of seconds >= 1`);
    }
  };
  positive(options.popMaxAgeSeconds, 'popMaxAgeSeconds');
  positive(options.attestationMaxAgeSeconds, 'attestationMaxAgeSeconds');
  const challenge = options.challenge;
  if (challenge !== undefined) {
    if (typeof challenge.secret !== 'string' || challenge.secret.length < 32) {
      fail('challenge.secret must be at least 32 characters');
    }
    if (typeof challenge.endpoint !== 'string' || !/^https?:\/\//.test(challenge.endpoint)) {
      fail('challenge.endpoint must be an absolute URL');
    }
    positive(challenge.stepSeconds, 'challenge.stepSeconds');
    positive(challenge.validSteps, 'challenge.validSteps');
  }
  if (options.replayGuard !== undefined && typeof options.replayGuard.useOnce !== 'function') {
    fail('replayGuard must have a useOnce(key, expiresAt) method');
  }
}

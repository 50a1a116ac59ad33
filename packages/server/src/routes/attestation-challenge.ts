import { Router } from 'express';
import type { ServerContext } from '../context.js';
import { apiCors, sendJson, sendJsonError } from './json-errors.js';

/** Where the challenge endpoint is served, below the issuer. */
export const ATTESTATION_CHALLENGE_PATH = '/attestation/challenge';

/**
 * The attestation challenge endpoint (draft-ietf-oauth-attestation-based-client-auth-10 §6.1):
 * POST answers 200 with `{"attestation_challenge": ...}` and `Cache-Control: no-store` (MUST).
 * Served only when challenges are on (DCR_ATTESTATION_CHALLENGE_SECRET); the challenges are
 * stateless, so any instance sharing the secret accepts them.
 */
export function attestationChallengeRoutes(context: ServerContext): Router {
  const router = Router();
  const challenges = context.clientAttestation?.challenges;
  if (!challenges) return router;
  router.all(ATTESTATION_CHALLENGE_PATH, apiCors, (req, res) => {
    if (req.method !== 'POST') {
      sendJsonError(res, 405, 'invalid_request', 'Use POST at the challenge endpoint', { Allow: 'POST, OPTIONS' });
      return;
    }
    sendJson(res, 200, { attestation_challenge: challenges.issue() }, { 'Cache-Control': 'no-store' });
  });
  return router;
}

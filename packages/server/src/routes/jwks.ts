import { Router } from 'express';
import type { ServerContext } from '../context.js';
import { apiCors } from './json-errors.js';

/**
 * RFC 7517 JWK Set of the access-token signing keys (RFC 9068 §4: resource servers find the keys
 * through jwks_uri). Open to any origin; cached briefly, since a rotated key must be found soon
 * (verifiers also refetch on an unknown kid).
 */
export function jwksRoutes(context: ServerContext): Router {
  const router = Router();
  for (const path of ['/jwks', '/.well-known/jwks.json']) {
    router.all(path, apiCors);
    router.get(path, async (_req, res, next) => {
      try {
        res
          .set({ 'Cache-Control': 'public, max-age=60', 'Content-Type': 'application/jwk-set+json' })
          .send(JSON.stringify(await context.signingKeys.publicJwks()));
      } catch (error) {
        next(error);
      }
    });
  }
  return router;
}

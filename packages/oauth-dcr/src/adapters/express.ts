import type { NextFunction, Request, Response } from 'express';
import type { Registration } from '../protocol/create-registration.js';
import { fromIncomingMessage, writeResult } from './node.js';
import type { RawRequest } from '../core/request.js';

/**
 * Express middleware for the registration endpoint. Mount it where the endpoint lives, before
 * any body parser: `app.use('/register', expressRegistration(dcr))`. The registration's
 * `registrationPath` must be the mount path (it defaults to `/register`).
 */
export function expressRegistration(registration: Registration) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const raw: RawRequest = fromIncomingMessage(req, { trustProxy: Boolean(req.app?.get('trust proxy')) }, req.originalUrl);
    // If a body parser already consumed the stream, hand its result on (re-serialized).
    if (req.readableEnded && req.body !== undefined) {
      const text = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
      raw.body = (async function* () { yield Buffer.from(text); })();
    }
    registration.handleRaw(raw).then((result) => writeResult(res, result), next);
  };
}

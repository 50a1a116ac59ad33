import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registration } from '../protocol/create-registration.js';
import { fromIncomingMessage, writeResult } from './node-io.js';
import type { RawRequest } from '../core/request.js';

/**
 * What the middleware reads of Express's request: structural, so that the published declarations
 * need no @types/express (Express itself is only ever passed in, never imported). An Express 4 or
 * 5 `Request` is one.
 */
export interface ExpressRequestLike extends IncomingMessage {
  /** The URL as received, before Express strips the mount path from `url`. */
  originalUrl: string;
  /** Set by a body parser mounted before this middleware, if any. */
  body?: unknown;
  app?: { get(setting: string): unknown };
}

/** Express's `next`: called with the error when the registration fails unexpectedly. */
export type ExpressNextLike = (error?: unknown) => void;

/**
 * Express middleware for the registration endpoint. Mount it where the endpoint lives, before
 * any body parser: `app.use('/register', expressRegistration(dcr))`. The registration's
 * `registrationPath` must be the mount path (it defaults to `/register`).
 *
 * A body parser mounted earlier still works (its parsed body is re-serialized). Express's
 * `trust proxy` setting decides only whether X-Forwarded-Proto/-Host build absolute URLs; the
 * client address, which every rate limit and audit event uses, is the registration's own
 * `trustProxy` rule applied to the socket's peer and X-Forwarded-For (never `req.ip`), so one
 * setting decides it for every adapter. Unexpected failures go to `next`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 * @see https://www.rfc-editor.org/rfc/rfc7592#section-2
 */
export function expressRegistration(registration: Registration) {
  return (req: ExpressRequestLike, res: ServerResponse, next: ExpressNextLike): void => {
    const raw: RawRequest = fromIncomingMessage(
      req,
      { trustProxy: Boolean(req.app?.get('trust proxy')) },
      req.originalUrl,
    );
    // If a body parser already consumed the stream, hand its result on (re-serialized).
    if (req.readableEnded && req.body !== undefined) {
      const text = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
      raw.body = (async function* () {
        yield Buffer.from(text);
      })();
    }
    registration.handleRaw(raw).then((result) => writeResult(res, result), next);
  };
}

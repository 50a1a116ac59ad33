import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registration } from '../protocol/create-registration.js';
import { fromIncomingMessage, writeResult, type NodeAdapterOptions } from './node-io.js';

export type { NodeAdapterOptions };

/**
 * A node:http request listener that answers everything it is given with the registration endpoint:
 * `http.createServer(nodeRegistration(dcr))`, or call it from your own listener for the
 * registration paths.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 * @see https://www.rfc-editor.org/rfc/rfc7592#section-2
 */
export function nodeRegistration(registration: Registration, options: NodeAdapterOptions = {}) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const result = await registration.handleRaw(fromIncomingMessage(req, options));
    writeResult(res, result);
  };
}

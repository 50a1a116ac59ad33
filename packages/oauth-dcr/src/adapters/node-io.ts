// The node:http request and response plumbing the node:http and Express adapters share. Internal:
// no package export reaches it, so the adapters' public surface stays the handler factories.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RawRequest } from '../core/request.js';
import type { HttpResult } from '../core/response.js';

/** How the node:http adapter reads requests. */
export interface NodeAdapterOptions {
  /**
   * Believe `X-Forwarded-Proto` / `X-Forwarded-Host` from a reverse proxy when building absolute
   * URLs. Only matters when the registration has no `issuer`. Default false. The client address
   * is not decided here but by the registration's `trustProxy` option.
   */
  trustProxy?: boolean;
}

/**
 * Turns a node:http request into the RawRequest `Registration.handleRaw` takes, streaming the body.
 * `path` overrides `req.url` (Express passes `originalUrl`, before the mount path was stripped).
 */
export function fromIncomingMessage(
  req: IncomingMessage,
  options: NodeAdapterOptions = {},
  path = req.url ?? '/',
): RawRequest {
  const forwarded = (name: string) => (options.trustProxy ? firstValue(req.headers[name]) : undefined);
  const protocol = forwarded('x-forwarded-proto') ?? ((req.socket as TLSSocket).encrypted ? 'https' : 'http');
  const host = forwarded('x-forwarded-host') ?? req.headers.host ?? 'localhost';
  return {
    method: req.method ?? 'GET',
    url: `${protocol}://${host}${path}`,
    path,
    header: (name) => firstValue(req.headers[name.toLowerCase()]),
    body: req,
    // The socket's peer as it is: the core applies trustProxy to it and X-Forwarded-For, in one place.
    remoteAddress: req.socket.remoteAddress,
  };
}

/** Writes an HttpResult to a node:http response, with its Content-Length, and ends it. */
export function writeResult(res: ServerResponse, result: HttpResult): void {
  // writeHead sends the head at once, so without a Content-Length Node would fall back to chunked
  // encoding: more bytes and more pieces per write for a body that is already whole.
  if (result.body !== null) result.headers['Content-Length'] = String(Buffer.byteLength(result.body));
  res.writeHead(result.status, result.headers);
  res.end(result.body ?? undefined);
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

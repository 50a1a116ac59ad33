import { request } from 'node:http';
import type { PlainResponse } from './http-from-address.js';

/**
 * A JSON POST sent from a chosen local address (127.0.0.2, 127.0.0.3, ... are all on Linux
 * loopback), so that the server sees distinct socket peers; `headers` may add a forged
 * X-Forwarded-For.
 */
export function postJsonFrom(
  localAddress: string,
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<PlainResponse> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Basic credentials as RFC 6749 §2.3.1 writes them (form-urlencoded, then base64). */
export function basicAuthorization(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

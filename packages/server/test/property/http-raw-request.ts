/** Sends one generated case to the server as it is, and reads the whole answer. */
import { request } from 'node:http';
import type { HttpCase } from './http-request-arbitraries.js';

/** The server's request body cap (64 KiB, the library's default). */
export const MAX_BODY_BYTES = 64 * 1024;

export interface Answer {
  path: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Sends a case as it is, through node:http, on a connection of its own (no case inherits a
 * connection another left half-read): any method, repeated headers, a body on any method,
 * bytes that are not UTF-8. Characters a request line cannot carry are percent-encoded.
 */
export function send(base: string, testCase: HttpCase, fill: (text: string) => string): Promise<Answer | 'reset'> {
  // Each UTF-8 byte of a character a request line cannot carry is percent-encoded (a lone surrogate as U+FFFD).
  const path = fill(testCase.path).replace(/[^\x21-\x7e]/gu, (char) =>
    [...Buffer.from(char, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join(''),
  );
  const repeated = new Map<string, string[]>();
  for (const [name, value] of testCase.headers)
    repeated.set(name, [...(repeated.get(name) ?? []), fill(value).replace(/[^\t\x20-\x7e\x80-\xff]/g, '?')]);
  // A repeated header goes out as several lines; Host cannot repeat (the client needs one).
  const headers = Object.fromEntries(
    [...repeated].map(([name, list]) => [name, list.length === 1 || name === 'host' ? list.at(-1)! : list]),
  );
  const body =
    testCase.body === undefined
      ? undefined
      : 'hex' in testCase.body
        ? Buffer.from(testCase.body.hex, 'hex')
        : Buffer.from(fill(testCase.body.text), 'utf8');
  // Content-Length always: without it node:http sends an OPTIONS or DELETE body unframed.
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    // The path goes out as written: a URL string would be normalised first (dot segments, %2e).
    const { hostname, port } = new URL(base);
    const options = { hostname, port, path, method: testCase.method, headers, timeout: 15_000, agent: false };
    const outgoing = request(options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ path, status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within 15 s to ${testCase.method} ${path}`)));
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      // A body past the server's cap is answered 413 and the connection closed without reading the
      // rest: the kernel may reset it before the answer is read. The server is then checked alive.
      if ((error.code === 'ECONNRESET' || error.code === 'EPIPE') && (body?.length ?? 0) > MAX_BODY_BYTES)
        resolve('reset');
      else reject(error);
    });
    outgoing.end(body);
  });
}

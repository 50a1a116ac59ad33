import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditEvent, Registration, RegistrationOptions } from '../../src/index.js';
import { nodeRegistration } from '../../src/adapters/node.js';
import { BASE, makeRegistration, mcpClient } from '../support/registration.js';

export { BASE, mcpClient };

/** An answer, decoded. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, any>;
}

/** A registration endpoint whose events are collected. */
export function watched(options: Partial<RegistrationOptions> = {}): { dcr: Registration; events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  const dcr = makeRegistration({ ...options, onEvent: (event) => events.push(event) });
  return { dcr, events };
}

export interface RawInput {
  method?: string;
  path?: string;
  /** The socket's peer, as an adapter hands it over. */
  peer?: string;
  headers?: Record<string, string>;
  /** JSON-encoded unless a string. */
  body?: unknown;
}

/**
 * One request through `Registration.handleRaw`, the entry the adapters use: the peer is given as
 * an adapter gives it (the node adapter's own sockets are exercised in client-address.test.ts).
 */
export async function raw(dcr: Registration, input: RawInput = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...input.headers };
  let body: AsyncIterable<Uint8Array> | null = null;
  if (input.body !== undefined) {
    const text = typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
    headers['content-type'] ??= 'application/json';
    body = (async function* () {
      yield Buffer.from(text);
    })();
  }
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const path = input.path ?? '/register';
  const result = await dcr.handleRaw({
    method: input.method ?? 'POST',
    url: `${BASE}${path}`,
    path,
    header: (name) => lower[name.toLowerCase()],
    body,
    remoteAddress: input.peer,
  });
  return { status: result.status, headers: result.headers, body: result.body ? JSON.parse(result.body) : {} };
}

/** A registration of the typical MCP client from `peer`. */
export const registerFrom = (dcr: Registration, peer: string | undefined, body: unknown = mcpClient) =>
  raw(dcr, { peer, body });

/** A node:http server in front of the registration, on a random port of 127.0.0.1. */
export async function listen(dcr: Registration): Promise<{ url: string; server: Server }> {
  const server = createServer(nodeRegistration(dcr));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

/** POSTs JSON over a real socket, with the given headers. */
export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/register`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers as Record<string, string>,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** Asserts the shape every limit refusal has: 429, Retry-After, the OAuth JSON error. */
export function isRateLimited(answer: Answer): boolean {
  const retryAfter = Number(answer.headers['Retry-After'] ?? answer.headers['retry-after']);
  return (
    answer.status === 429 &&
    Number.isInteger(retryAfter) &&
    retryAfter >= 1 &&
    answer.body.error === 'temporarily_unavailable' &&
    typeof answer.body.error_description === 'string' &&
    Object.keys(answer.body).length === 2
  );
}

/**
 * Client ID Metadata Documents served over real https from this machine, and the reference
 * server started as `oauth-dcr-server serve` would be in development: DCR_FETCH_ALLOW naming
 * loopback, and the test certificate trusted through Node's NODE_EXTRA_CA_CERTS. Node reads that
 * variable once, at process start, so the server runs as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificate, type TestCertificate } from '../../../oauth-dcr/test/net/local-https.js';
import { DEMO_PASSWORD, DEMO_USERNAME } from './reference-server.js';

/** One answer of the document host: a document (serialised as JSON) or raw text, as given. */
export interface HostedResponse {
  status?: number;
  contentType?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body: unknown;
}

export interface DocumentHost {
  /** https://localhost:PORT */
  origin: string;
  /** The test certificate (its own CA), in PEM. */
  certificate: string;
  /** The URL of `path` on this host. */
  urlOf(path: string): string;
  /** Serves `response` at `path` from now on; returns its URL. */
  serve(path: string, response: HostedResponse): string;
  /**
   * Serves a metadata document at `path`: `client_id` is its own URL unless `fields` says
   * otherwise. Returns the URL, the client_id a client would use.
   */
  serveDocument(path: string, fields: Record<string, unknown>): string;
  /** How many requests reached `path`. */
  hits(path: string): number;
  close(): Promise<void>;
}

/**
 * An https server on loopback serving documents from memory, or `{ skip }` with the reason when
 * openssl is missing (the library's makeCertificate throws instead on CI).
 */
export async function startDocumentHost(): Promise<DocumentHost | { skip: string }> {
  const made = makeCertificate();
  if ('skip' in made) return made;
  const certificate: TestCertificate = made;
  const responses = new Map<string, HostedResponse>();
  const counts = new Map<string, number>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const response = responses.get(path);
    if (!response) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
    res.writeHead(response.status ?? 200, {
      'content-type': response.contentType ?? 'application/json',
      ...response.headers,
    });
    res.end(text);
  };
  const server = await listenOnLoopback(createServer(certificate, handle));
  const { port } = server.address() as AddressInfo;
  const origin = `https://localhost:${port}`;
  return {
    origin,
    certificate: certificate.cert,
    urlOf: (path) => `${origin}${path}`,
    serve(path, response) {
      responses.set(path, response);
      return `${origin}${path}`;
    },
    serveDocument(path, fields) {
      responses.set(path, { body: { client_id: `${origin}${path}`, ...fields } });
      return `${origin}${path}`;
    },
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * localhost may resolve to 127.0.0.1 or ::1 depending on the machine: a dual-stack socket answers
 * both; where IPv6 is off, IPv4 loopback alone.
 */
async function listenOnLoopback(server: Server): Promise<Server> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host: '::', ipv6Only: false }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }
  return server;
}

export interface SpawnedServer {
  /** The issuer and base URL, http://127.0.0.1:PORT */
  url: string;
  child: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

const CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'packages/server/src/cli.ts')];

/**
 * `oauth-dcr-server serve` with a memory store and the demo user, trusting `certificate` through
 * NODE_EXTRA_CA_CERTS and allowed to fetch from loopback (DCR_FETCH_ALLOW). Extra environment
 * variables override those settings.
 */
export async function spawnReferenceServer(
  certificate: string,
  env: Record<string, string> = {},
): Promise<SpawnedServer> {
  const dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-cimd-'));
  const caFile = join(dir, 'test-ca.pem');
  await writeFile(caFile, certificate);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: caFile,
      PORT: String(port),
      HOST: '127.0.0.1',
      DCR_STORE: 'memory',
      DCR_DEMO_USER: `${DEMO_USERNAME}:${DEMO_PASSWORD}`,
      DCR_FETCH_ALLOW: '127.0.0.1,localhost,::1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within 30 s:\n${output}`)), 30_000);
      const check = () => {
        if (output.includes(`oauth-dcr listening on ${url}`)) {
          clearTimeout(timer);
          child.off('exit', exited);
          resolve();
        }
      };
      const exited = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`oauth-dcr-server serve exited with ${code}:\n${output}`));
      };
      child.stdout!.on('data', check);
      child.once('exit', exited);
    });
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * A real client's published document, kept verbatim as a fixture by the library's tests
 * (packages/oauth-dcr/test/fixtures/documents, each with where its shape comes from), without its
 * client_id: served from this machine, its client_id becomes the local URL.
 */
export function documentFixture(name: 'claude-code' | 'claude-ai' | 'vscode' | 'chatgpt'): Record<string, unknown> {
  const file = join(process.cwd(), 'packages/oauth-dcr/test/fixtures/documents', `${name}.json`);
  const { document } = JSON.parse(readFileSync(file, 'utf8')) as { document: Record<string, unknown> };
  const { client_id: _published, ...fields } = document;
  return fields;
}

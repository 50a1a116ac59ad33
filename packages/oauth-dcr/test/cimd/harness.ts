/**
 * A local https server that serves Client ID Metadata Documents, and registration endpoints that
 * resolve them through the public API with the development allowances a deployment would use:
 * `localhost` on the fetch allow list and the test CA. Names resolve through a table so that
 * hostile ones (a name pointing at 10.0.0.1, ::1, ...) can be tried without touching DNS.
 */
import { readFileSync } from 'node:fs';
import type { LookupAddress } from 'node:dns';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import assert from 'node:assert/strict';
import {
  createRegistration,
  type ClientLookup,
  type ClientRecord,
  type Registration,
  type RegistrationOptions,
} from 'oauth-dcr';
import { memoryStore } from 'oauth-dcr/memory';
import { makeCertificate, startServer, type LocalServer, type TestCertificate } from '../net/local-https.js';

const certificate = makeCertificate();
/** Why the suites cannot run (no openssl on a newcomer's machine), or false. */
export const skip = 'skip' in certificate ? certificate.skip : false;
if (skip) process.stderr.write(`skipping Client ID Metadata Document tests: ${skip}\n`);

/** What the server answers on one path. An object body is sent as JSON. */
export interface Route {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Waits this long before answering (to hold concurrent look-ups together). */
  delayMs?: number;
}

/** Where names resolve. Only `localhost` is on the allow list; the others show what stays refused. */
export const HOSTS: Readonly<Record<string, string>> = {
  localhost: '127.0.0.1',
  'loopback.test': '127.0.0.1',
  'private.test': '10.0.0.1',
  'metadata.test': '169.254.169.254',
  'v6-loopback.test': '::1',
  'ula.test': 'fd00::1',
};

export interface DocumentServer {
  /** https://localhost:PORT */
  origin: string;
  port: number;
  routes: Map<string, Route>;
  /** Requests per path. */
  hits: Map<string, number>;
  /** The Accept header of the latest request per path. */
  accept: Map<string, string | undefined>;
  /** Host names the registration's resolver was asked for. */
  resolved: string[];
  /** Serves `document` at `path` and returns its URL, the client_id. */
  serve(path: string, document: unknown, headers?: Record<string, string>): string;
  hitsOf(path: string): number;
  reset(): void;
  close(): Promise<void>;
  /** A registration endpoint with documents on, reaching this server. */
  registration(options?: Partial<RegistrationOptions>): Registration;
}

export async function startDocumentServer(): Promise<DocumentServer> {
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const accept = new Map<string, string | undefined>();
  const resolved: string[] = [];
  const local: LocalServer = await startServer(certificate as TestCertificate, (req, res) => {
    void answer(req, res);
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    accept.set(path, req.headers.accept);
    const route = routes.get(path);
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end('{"error":"not_found"}');
    }
    if (route.delayMs) await new Promise((resolve) => setTimeout(resolve, route.delayMs));
    const body =
      typeof route.body === 'string' || Buffer.isBuffer(route.body) ? route.body : JSON.stringify(route.body ?? {});
    res.writeHead(route.status ?? 200, { 'content-type': 'application/json', ...route.headers });
    res.end(body);
  }

  const lookup = (
    host: string,
    _options: unknown,
    callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
  ): void => {
    resolved.push(host);
    const address = HOSTS[host];
    if (address === undefined) {
      callback(Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
    } else callback(null, [{ address, family: isIP(address) }]);
  };

  const origin = `https://localhost:${local.port}`;
  return {
    origin,
    port: local.port,
    routes,
    hits,
    accept,
    resolved,
    serve(path, document, headers) {
      routes.set(path, { body: document, headers });
      return `${origin}${path}`;
    },
    hitsOf: (path) => hits.get(path) ?? 0,
    reset() {
      routes.clear();
      hits.clear();
      accept.clear();
      resolved.length = 0;
    },
    close: () => local.close(),
    registration(options = {}) {
      return createRegistration({
        store: memoryStore(),
        issuer: 'https://as.example.com',
        onError: () => {},
        outboundFetch: { allowAddresses: ['localhost'], ca: (certificate as TestCertificate).cert, lookup },
        ...options,
        clientIdMetadataDocuments: { enabled: true, ...options.clientIdMetadataDocuments },
      });
    },
  };
}

/** A fixture from test/fixtures/documents, its client_id replaced by the URL it is served from. */
export function fixtureDocument(name: string, clientId: string): Record<string, unknown> {
  const fixture = JSON.parse(readFileSync(new URL(`../fixtures/documents/${name}.json`, import.meta.url), 'utf8')) as {
    document: Record<string, unknown>;
  };
  return { ...fixture.document, client_id: clientId };
}

/** A minimal valid document for `clientId`: a public client with a loopback redirect. */
export function minimalDocument(clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { client_id: clientId, client_name: 'Example', redirect_uris: ['http://127.0.0.1/callback'], ...extra };
}

let served = 0;

/** Serves `make(clientId)` at a path never used before (so nothing is cached) and looks it up. */
export async function lookUpFresh(
  server: DocumentServer,
  registration: Registration,
  make: (clientId: string) => Record<string, unknown>,
): Promise<ClientLookup> {
  served += 1;
  const path = `/doc-${served}.json`;
  const clientId = `${server.origin}${path}`;
  server.serve(path, make(clientId));
  return registration.lookupClient(clientId);
}

/** The client of a `found` look-up; fails the test otherwise. */
export function found(lookup: ClientLookup): ClientRecord {
  assert.equal(lookup.kind, 'found', JSON.stringify(lookup));
  assert.ok(lookup.kind === 'found');
  return lookup.client;
}

/** Fails the test unless the look-up was refused with `error` and a matching description. */
export function refusedWith(lookup: ClientLookup, error: string, description: RegExp): void {
  assert.equal(lookup.kind, 'refused', JSON.stringify(lookup));
  assert.ok(lookup.kind === 'refused');
  assert.equal(lookup.error, error);
  assert.match(lookup.description, description);
}

/**
 * The SSRF lab: a public stand-in (https on 127.0.0.1:PORT, allowed by the tests), canaries on
 * the private loopback addresses at the same port (plain TCP listeners that count every
 * connection and hang up), and a test DNS installed under node:dns itself, so that a lookup made
 * by anything in the process, safe-fetch or a socket, goes through it.
 */
import { spawnSync } from 'node:child_process';
import dns, { type LookupAddress } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CANARY_IPV4, CANARY_IPV6, type DnsTable, PUBLIC_STAND_IN, redirectTargetOf } from './ssrf-targets.js';

export interface LabRequest {
  host: string;
  path: string;
}

export interface Lab {
  port: number;
  /** The lab's own CA certificate (self-signed; SANs 127.0.0.1 and *.rebind.test). */
  cert: string;
  /** Connections each canary accepted. */
  canaryHits(): number;
  /** Requests the public stand-in answered (redirects included). */
  publicRequests: LabRequest[];
  /** How the public stand-in answers a path that is not a redirect. */
  respond: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

/** A certificate for the public stand-in, made by openssl; CI must have it. */
function makeLabCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-ssrf-'));
  try {
    const result = spawnSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=ssrf-lab'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:*.rebind.test'],
      ],
      { encoding: 'utf8' },
    );
    if (result.error || result.status !== 0)
      throw new Error(`openssl failed: ${result.error?.message ?? result.stderr}`);
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startLab(): Promise<Lab> {
  const certificate = makeLabCertificate();
  const publicRequests: LabRequest[] = [];
  let hits = 0;
  const lab: Lab = {
    port: 0,
    cert: certificate.cert,
    canaryHits: () => hits,
    publicRequests,
    respond: (_req, res) => void res.writeHead(404, { 'content-type': 'application/json' }).end('{}'),
    close: async () => {},
  };
  const stand = createHttpsServer(certificate, (req, res) => {
    const path = req.url ?? '/';
    publicRequests.push({ host: req.headers.host ?? '', path });
    const target = redirectTargetOf(path);
    // A header is Latin-1: non-ASCII is sent percent-encoded, as a server would (URL parsing decodes it).
    const location = target?.replace(/[^\x00-\x7f]/gu, (c) => encodeURIComponent(c));
    if (location !== undefined) return void res.writeHead(302, { location }).end();
    lab.respond(req, res);
  });
  await listen(stand, PUBLIC_STAND_IN, 0);
  lab.port = (stand.address() as net.AddressInfo).port;
  const canaries: net.Server[] = [];
  for (const address of [...CANARY_IPV4, CANARY_IPV6]) {
    const canary = net.createServer((socket) => {
      hits += 1;
      socket.destroy();
    });
    await listen(canary, address, lab.port);
    canaries.push(canary);
  }
  lab.close = async () => {
    stand.closeAllConnections();
    await Promise.all([stand, ...canaries].map((s) => new Promise((resolve) => s.close(resolve))));
  };
  return lab;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export interface TestDns {
  /** Lookups of each test name since the last reset. */
  lookups: Map<string, number>;
  reset(): void;
  uninstall(): void;
}

/**
 * Replaces dns.lookup for names ending in `.test` (answers from `table`; unknown names are
 * ENOTFOUND); every other name goes to the system resolver. The ESM bindings of node:dns are
 * synced, so `import { lookup } from 'node:dns'` sees it too.
 */
export function installTestDns(table: DnsTable): TestDns {
  const original = dns.lookup;
  const lookups = new Map<string, number>();
  const replacement = (hostname: string, options: unknown, callback?: LookupCallback): void => {
    const done = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as dns.LookupOptions;
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (!name.endsWith('.test'))
      return void (original as (...args: unknown[]) => void).call(dns, hostname, options, callback);
    const count = lookups.get(name) ?? 0;
    lookups.set(name, count + 1);
    const answers = answersFor(table, name);
    const answer = answers?.[Math.min(count, answers.length - 1)];
    process.nextTick(() => {
      const wanted = (answer ?? []).filter((a) => !opts.family || net.isIP(a) === opts.family);
      if (wanted.length === 0) {
        return done(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      }
      const all = wanted.map((address) => ({ address, family: net.isIP(address) }));
      if (opts.all) done(null, all);
      else done(null, all[0]!.address, all[0]!.family);
    });
  };
  (dns as { lookup: unknown }).lookup = replacement;
  syncBuiltinESMExports();
  return {
    lookups,
    reset: () => lookups.clear(),
    uninstall() {
      (dns as { lookup: unknown }).lookup = original;
      syncBuiltinESMExports();
    },
  };
}

/** The entry of `name`, or of its nearest parent that has one. */
export function answersFor(table: DnsTable, name: string): string[][] | undefined {
  for (let rest = name; rest.includes('.'); rest = rest.slice(rest.indexOf('.') + 1)) {
    if (table[rest]) return table[rest];
  }
  return undefined;
}

/**
 * Records the destination of every socket connection the process opens (after its DNS lookup),
 * then lets it proceed: the addresses no canary can listen on (10.0.0.0/8, 169.254.169.254...)
 * are counted here.
 */
export function recordConnections(): { destinations: string[]; stop(): void } {
  const destinations: string[] = [];
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function recorded(this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    const options = (Array.isArray(first) ? first[0] : first) as { host?: string; port?: number } | undefined;
    if (options && typeof options === 'object' && options.port !== undefined) {
      const host = options.host ?? 'localhost';
      if (net.isIP(host)) destinations.push(`${host}:${options.port}`);
      else this.once('lookup', (error, address) => !error && destinations.push(`${address}:${options.port}`));
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;
  return {
    destinations,
    stop: () => {
      net.Socket.prototype.connect = original;
    },
  };
}

/**
 * What the public stand-in serves to every outbound path of the matrix: a JWK Set at
 * `.../jwks.json`, a sector identifier document at `.../sector.json`, a Client ID Metadata
 * Document naming its own URL at `.../client.json`; 404 otherwise. So a fetch that is rightly let
 * through (the first, public answer of a rebinding name) succeeds.
 */
export function servePathsOfTheMatrix(lab: Lab, jwks: { keys: unknown[] }, redirectUri: string): void {
  lab.respond = (req, res) => {
    const path = req.url ?? '/';
    const json = (body: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (path.endsWith('/jwks.json')) return json(jwks);
    if (path.endsWith('/sector.json')) return json([redirectUri]);
    if (path.endsWith('/client.json')) {
      return json({
        client_id: `https://${req.headers.host}${path}`,
        client_name: 'Doc',
        redirect_uris: [redirectUri],
      });
    }
    return res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
  };
}

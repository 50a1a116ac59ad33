/**
 * A throwaway HTTPS server on 127.0.0.1 for the safe-fetch tests, with a self-signed certificate
 * made by openssl at test time (SANs localhost, issuer.test, 127.0.0.1). Nothing leaves loopback.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  key: string;
  cert: string;
}

/**
 * `{ skip }` with the reason when openssl is unavailable, so suites can skip with a clear message
 * on a newcomer's machine; on CI it throws instead.
 */
export function makeCertificate(): TestCertificate | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-net-'));
  try {
    const result = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=oauth-dcr-test',
        '-addext',
        'subjectAltName=DNS:localhost,DNS:issuer.test,IP:127.0.0.1',
      ],
      { encoding: 'utf8' },
    );
    if (result.error || result.status !== 0) {
      const reason = `openssl could not make a test certificate (${result.error?.message ?? result.stderr.trim()})`;
      // On CI a missing tool must fail the run, never quietly skip what it guards.
      if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(reason);
      return { skip: reason };
    }
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LocalServer {
  /** https://127.0.0.1:PORT */
  origin: string;
  port: number;
  /** Requests received, newest last. */
  requests: IncomingMessage[];
  close(): Promise<void>;
}

export async function startServer(
  certificate: TestCertificate,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LocalServer> {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer(certificate, (req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Slow-response tests leave connections open; they must not hold the suite.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

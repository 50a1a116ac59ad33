// Client ID Metadata Documents served over real https from loopback, for the CIMD benchmarks.
// The certificate is made by openssl for this run (SANs localhost and 127.0.0.1) and is its own
// CA: the reference server trusts it through NODE_EXTRA_CA_CERTS, and reaches loopback because
// DCR_FETCH_ALLOW names it (both development settings; the server's banner warns about the latter).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A self-signed P-256 certificate in `dir`: { key, cert, certFile }. */
export function makeCertificate(dir) {
  const keyFile = join(dir, 'documents-key.pem');
  const certFile = join(dir, 'documents-cert.pem');
  const made = spawnSync(
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
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=oauth-dcr-bench-documents',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { encoding: 'utf8' },
  );
  if (made.error || made.status !== 0)
    throw new Error(`openssl could not make a certificate: ${made.error?.message ?? made.stderr}`);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/**
 * Starts the document host on 127.0.0.1. `serveDocument(path, fields, { delayMs })` publishes a
 * client's document (its client_id is its own URL) and returns that URL; `hits(path)` counts the
 * requests that reached it. Documents may be cached for an hour (Cache-Control: max-age=3600).
 */
export async function startDocumentHost(dir) {
  const certificate = makeCertificate(dir);
  const documents = new Map();
  const hits = new Map();
  const server = createServer({ key: certificate.key, cert: certificate.cert }, async (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const entry = documents.get(path);
    if (!entry) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (entry.delayMs) await sleep(entry.delayMs);
    res
      .writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'max-age=3600',
        'content-length': Buffer.byteLength(entry.body),
      })
      .end(entry.body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://localhost:${server.address().port}`;
  return {
    origin,
    certFile: certificate.certFile,
    serveDocument(path, fields, { delayMs = 0 } = {}) {
      const url = origin + path;
      documents.set(path, { body: JSON.stringify({ client_id: url, ...fields }), delayMs });
      return url;
    },
    hits: (path) => hits.get(path) ?? 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

/** What an MCP client publishes at its client_id URL (public client, loopback redirect, PKCE). */
export const mcpClientDocument = {
  client_name: 'Benchmark MCP Client (metadata document)',
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
};

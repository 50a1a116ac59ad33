/**
 * safe-fetch keeps Node's default trust store unless a `ca` is given, so a deployment trusts an
 * extra CA the standard way, with NODE_EXTRA_CA_CERTS (which Node reads once, at start-up: hence a
 * child process per case).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeCertificate, startServer, type LocalServer, type TestCertificate } from './local-https.js';

const certificate = makeCertificate();
const skip = 'skip' in certificate ? certificate.skip : false;
const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Fetches `url` with safe-fetch in a fresh Node process; prints the status or the error reason. */
const CHILD = `
import { safeFetch } from 'oauth-dcr/safe-fetch';
try {
  const response = await safeFetch(process.argv[1], { allowAddresses: ['127.0.0.1'] });
  console.log(String(response.status));
} catch (error) {
  console.log(error.reason ?? String(error));
}
`;

function fetchInChild(url: string, extraCaFile: string | undefined): Promise<string> {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  if (extraCaFile !== undefined) env.NODE_EXTRA_CA_CERTS = extraCaFile;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, url], {
      cwd: packageRoot,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve(out.trim()));
  });
}

describe('NODE_EXTRA_CA_CERTS', { skip }, () => {
  let server: LocalServer;
  let dir: string;
  before(async () => {
    server = await startServer(certificate as TestCertificate, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    dir = mkdtempSync(join(tmpdir(), 'oauth-dcr-ca-'));
    writeFileSync(join(dir, 'ca.pem'), (certificate as TestCertificate).cert);
  });
  after(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is honoured when no ca option is given', async () => {
    const result = await fetchInChild(`${server.origin}/doc`, join(dir, 'ca.pem'));
    assert.equal(result, '200');
  });

  it('without it, the test CA is not trusted', async () => {
    const result = await fetchInChild(`${server.origin}/doc`, undefined);
    assert.equal(result, 'network');
  });
});

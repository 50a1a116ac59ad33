import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { issuerSetting, loadConfig } from '../../src/config.js';
import { startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * The reference server as an operator meets it: what a client's hang-up logs, how long a stalled
 * request may hold a connection, what the logs never show, and which issuer a wildcard HOST gives.
 */

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A debug-level logger whose lines the test can read. */
function capturingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function waitFor<T>(what: string, probe: () => T | undefined, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function readUntilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(received));
  });
}

describe('a client that hangs up mid-upload', () => {
  const { logger, lines } = capturingLogger();
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ logger });
  });
  after(() => server.stop());

  it('is logged at debug, never as a server error', async () => {
    const socket = await open(server.url);
    socket.write(
      'POST /register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"client_name":',
    );
    // Let the server start reading the body, then go away.
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();

    const hangUp = await waitFor('the hang-up to be logged', () =>
      lines.find((line) => line.level >= 50 || /closed the connection/.test(line.msg)),
    );
    assert.equal(hangUp.level, 20, `logged as ${JSON.stringify(hangUp)}`);
    assert.equal(hangUp.path, '/register');
    // The registration's own handling has finished by now (the hang-up line comes first or with it).
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(
      lines.filter((line) => line.level >= 40),
      [],
      'nothing at warn or above',
    );
  });
});

describe('request and header timeouts (DCR_REQUEST_TIMEOUT, DCR_HEADERS_TIMEOUT)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { DCR_REQUEST_TIMEOUT: '2', DCR_HEADERS_TIMEOUT: '1' } });
  });
  after(() => server.stop());

  // No timing is asserted: only that the server, not the client, ends a stalled request. Node's
  // own defaults would hold these connections for minutes, past the test's own timeout.
  it('answers a body that stops arriving with 408 and closes the connection', { timeout: 20_000 }, async () => {
    const socket = await open(server.url);
    const answer = readUntilClosed(socket);
    socket.write(
      'POST /register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"client_',
    );
    assert.match(await answer, /^HTTP\/1\.1 408 /);
  });

  it('answers headers that stop arriving with 408 and closes the connection', { timeout: 20_000 }, async () => {
    const socket = await open(server.url);
    const answer = readUntilClosed(socket);
    socket.write('POST /register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl');
    assert.match(await answer, /^HTTP\/1\.1 408 /);
  });

  it('refuses a headers timeout longer than the request timeout, naming both', () => {
    assert.throws(
      () => loadConfig({ DCR_REQUEST_TIMEOUT: '5', DCR_HEADERS_TIMEOUT: '10' }),
      /DCR_HEADERS_TIMEOUT \(10s\) must not exceed DCR_REQUEST_TIMEOUT \(5s\)/,
    );
  });
});

describe('secrets in logs', () => {
  it('masks the configured passwords in every log line, whatever field quotes them', async () => {
    // The real logger writes to stdout: run it in its own process and read that.
    const script = `
      import { createLogger } from './packages/server/src/logger.ts';
      const logger = createLogger('info', ['db-pass-5x7', 'demo "quoted" pw']);
      logger.error({ err: new Error('connect to postgres://app:db-pass-5x7@db:5432/x failed') }, 'storage failed');
      logger.info({ note: 'demo "quoted" pw', user: { password: 'plain-field' } }, 'user db-pass-5x7');
    `;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ]);
    assert.equal(stdout.trim().split('\n').length, 2, stdout);
    assert.doesNotMatch(stdout, /db-pass-5x7|quoted|plain-field/);
    assert.match(stdout, /postgres:\/\/app:\*\*\*@db:5432/);
  });
});

describe('the issuer shown at start', () => {
  it('says it was derived, and from what, when HOST is a wildcard', () => {
    const loaded = loadConfig({ HOST: '0.0.0.0', PORT: '3000' });
    const setting = issuerSetting(loaded, 3000);
    assert.equal(setting.value, 'http://localhost:3000');
    assert.equal(setting.source, 'derived');
    assert.match(setting.note ?? '', /HOST=0\.0\.0\.0 listens on every interface.*localhost.*PORT=3000.*set ISSUER/);
  });

  it('names the port the system chose for PORT=0', () => {
    const loaded = loadConfig({ HOST: '127.0.0.1', PORT: '0' });
    const setting = issuerSetting(loaded, 41234);
    assert.equal(setting.value, 'http://127.0.0.1:41234');
    assert.match(
      setting.note ?? '',
      /derived from HOST=127\.0\.0\.1 and the port the system chose for PORT=0 \(41234\)/,
    );
  });

  it('shows an ISSUER that was set as it was set', () => {
    const loaded = loadConfig({ ISSUER: 'https://auth.example.com/', PORT: '3000' });
    assert.deepEqual(issuerSetting(loaded, 3000), { name: 'ISSUER', value: 'https://auth.example.com', source: 'env' });
  });
});

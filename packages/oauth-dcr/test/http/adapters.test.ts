import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import { createRegistration, type Registration } from '../../src/index.js';
import { memoryStore } from '../../src/store/memory.js';
import { nodeRegistration } from '../../src/adapters/node.js';
import { expressRegistration } from '../../src/adapters/express.js';
import { mcpClient } from '../support/registration.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** fetch() keeps connections alive; close them, or close() waits for them. */
function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Sends raw bytes, for requests fetch() refuses to build. */
function rawRequest(origin: string, text: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text));
    let data = '';
    socket.on('data', (chunk) => (data += chunk));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('node:http adapter', () => {
  let server: Server;
  let origin: string;
  let dcr: Registration;
  before(async () => {
    dcr = createRegistration({ store: memoryStore(), onError: () => {} });
    server = createServer(nodeRegistration(dcr));
    origin = await listen(server);
  });
  after(() => stop(server));

  it('registers over a real socket, with an absolute registration_client_uri from the Host header', async () => {
    const res = await fetch(`${origin}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(mcpClient),
    });
    assert.equal(res.status, 201);
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body.registration_client_uri, `${origin}/register/${body.client_id}`);
  });

  it('answers a malformed Host header with JSON 400, not a 500, and stores nothing', async () => {
    const body = JSON.stringify(mcpClient);
    const before = (await dcr.store.listClients({ limit: 1000 })).length;
    const response = await rawRequest(
      origin,
      `POST /register HTTP/1.1\r\nHost: a b\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    // Node itself may refuse the header before the adapter sees it; either way no 500.
    assert.match(response, /^HTTP\/1\.1 400/);
    // A valid body: without an issuer the answer's URLs come from the Host, so a bad Host must be
    // refused before the client is stored, or the client would exist with credentials nobody got.
    assert.equal((await dcr.store.listClients({ limit: 1000 })).length, before);
  });

  it('streams the body cap: an oversized chunked body gets 413 JSON', async () => {
    const res = await fetch(`${origin}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  });

  it('does not report a client that hangs up mid-upload as a server error, nor as a refusal', async () => {
    const errors: unknown[] = [];
    const events: string[] = [];
    const answered: number[] = [];
    const hangUpDcr = createRegistration({
      store: memoryStore(),
      onError: (error) => errors.push(error),
      onEvent: (event) => events.push(event.type),
    });
    const handler = nodeRegistration(hangUpDcr);
    let handled!: Promise<void>;
    const hangUpServer = createServer((req, res) => {
      res.on('close', () => answered.push(res.statusCode));
      handled = handler(req, res);
    });
    const hangUpOrigin = await listen(hangUpServer);
    try {
      const { hostname, port } = new URL(hangUpOrigin);
      const socket = connect(Number(port), hostname);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        'POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"client_name":',
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
      while (answered.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await handled;
      assert.deepEqual(errors, []);
      assert.deepEqual(events, [], 'nothing was judged, so no registration.rejected');
    } finally {
      await stop(hangUpServer);
    }
  });
});

describe('Express adapter', () => {
  let server: Server;
  let origin: string;
  before(async () => {
    const app = express();
    const mounted = createRegistration({ store: memoryStore(), registrationPath: '/o/register', onError: () => {} });
    app.use('/o/register', expressRegistration(mounted));
    // A deployment that put express.json() in front of the endpoint still works.
    const behindParser = createRegistration({
      store: memoryStore(),
      registrationPath: '/parsed/register',
      onError: () => {},
    });
    app.use('/parsed/register', express.json(), expressRegistration(behindParser));
    server = createServer(app);
    origin = await listen(server);
  });
  after(() => stop(server));

  it('registers at the mount path, with and without a trailing slash', async () => {
    for (const path of ['/o/register', '/o/register/']) {
      const res = await fetch(`${origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(mcpClient),
      });
      assert.equal(res.status, 201, path);
      assert.equal(res.redirected, false);
      const body = (await res.json()) as Record<string, string>;
      assert.equal(body.registration_client_uri, `${origin}/o/register/${body.client_id}`);
      const read = await fetch(body.registration_client_uri!, {
        headers: { authorization: `Bearer ${body.registration_access_token}` },
      });
      assert.equal(read.status, 200);
    }
  });

  it('answers malformed JSON with JSON, never an HTML page', async () => {
    const res = await fetch(`${origin}/o/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type')!, /application\/json/);
  });

  it('works behind express.json()', async () => {
    const res = await fetch(`${origin}/parsed/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(mcpClient),
    });
    assert.equal(res.status, 201);
  });
});

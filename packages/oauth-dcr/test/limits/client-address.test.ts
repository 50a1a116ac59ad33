import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expressRegistration } from '../../src/adapters/express.js';
import type { AuditEvent } from '../../src/index.js';
import { makeRegistration } from '../support/registration.js';
import { isRateLimited, listen, mcpClient, post } from './support.js';

/** Over real sockets through the node adapter: the peer is 127.0.0.1, as the kernel says. */
describe('The client address (trustProxy, X-Forwarded-For)', () => {
  const servers: Server[] = [];
  after(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

  async function endpoint(trustProxy?: string[]) {
    const events: AuditEvent[] = [];
    const dcr = makeRegistration({
      ...(trustProxy ? { trustProxy } : {}),
      rateLimits: { perAddress: { points: 1, duration: 60 }, perSoftware: false },
      onEvent: (event) => events.push(event),
    });
    const { url, server } = await listen(dcr);
    servers.push(server);
    const addresses = () => events.filter((e) => e.type === 'client.registered').map((e) => e.ip);
    return { url, events, addresses, dcr };
  }

  it('without trustProxy is the socket peer, and a spoofed X-Forwarded-For changes nothing, not even the limit', async () => {
    const { url, addresses } = await endpoint();
    assert.equal((await post(url, mcpClient, { 'x-forwarded-for': '203.0.113.1' })).status, 201);
    // A new made-up address per request does not buy a new budget.
    const refused = await post(url, mcpClient, { 'x-forwarded-for': '203.0.113.2' });
    assert.ok(isRateLimited(refused), JSON.stringify(refused));
    assert.deepEqual(addresses(), ['127.0.0.1']);
  });

  it('with the peer trusted, is the first untrusted hop read from the right', async () => {
    const { url, addresses } = await endpoint(['127.0.0.1', '10.0.0.0/8']);
    // The client's own left-most entry is a lie; 10.1.2.3 is our inner proxy; 198.51.100.20 the client.
    assert.equal((await post(url, mcpClient, { 'x-forwarded-for': '1.1.1.1, 198.51.100.20, 10.1.2.3' })).status, 201);
    assert.equal((await post(url, mcpClient, { 'x-forwarded-for': '198.51.100.21' })).status, 201);
    // The limit follows the forwarded address: the same client again is refused...
    assert.ok(isRateLimited(await post(url, mcpClient, { 'x-forwarded-for': '9.9.9.9, 198.51.100.20' })));
    // ...and a port some proxies append, or an IPv6 hop in brackets, is read as the address.
    assert.equal((await post(url, mcpClient, { 'x-forwarded-for': '198.51.100.22:4711' })).status, 201);
    assert.equal((await post(url, mcpClient, { 'x-forwarded-for': '[2001:db8::5]:443' })).status, 201);
    assert.deepEqual(addresses(), ['198.51.100.20', '198.51.100.21', '198.51.100.22', '2001:db8::5']);
  });

  it('with every hop trusted, is the left-most; with no header, the peer; a garbled hop ends the trust', async () => {
    const { url, addresses } = await endpoint(['127.0.0.1', '10.0.0.0/8']);
    assert.equal((await post(url, mcpClient, { 'x-forwarded-for': '10.0.0.9, 10.0.0.8' })).status, 201);
    assert.equal((await post(url, mcpClient)).status, 201);
    assert.equal((await post(url, mcpClient, { 'x-forwarded-for': 'unknown, 10.0.0.7' })).status, 201);
    assert.deepEqual(addresses(), ['10.0.0.9', '127.0.0.1', '10.0.0.7']);
  });

  it('trusting someone else leaves the header unbelieved', async () => {
    const { url, addresses } = await endpoint(['192.0.2.0/24']);
    assert.equal((await post(url, mcpClient, { 'x-forwarded-for': '203.0.113.9' })).status, 201);
    assert.deepEqual(addresses(), ['127.0.0.1']);
  });

  it('behind Express, Express’s own trust proxy does not decide: the registration’s trustProxy does', async () => {
    const events: AuditEvent[] = [];
    const options = { rateLimits: false as const, onEvent: (event: AuditEvent) => events.push(event) };
    const app = express();
    app.set('trust proxy', true);
    app.use(
      '/plain/register',
      expressRegistration(makeRegistration({ ...options, registrationPath: '/plain/register' })),
    );
    app.use(
      '/trusting/register',
      expressRegistration(
        makeRegistration({ ...options, registrationPath: '/trusting/register', trustProxy: ['127.0.0.1'] }),
      ),
    );
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.equal((await post(`${url}/plain`, mcpClient, { 'x-forwarded-for': '203.0.113.3' })).status, 201);
    assert.equal((await post(`${url}/trusting`, mcpClient, { 'x-forwarded-for': '203.0.113.3' })).status, 201);
    assert.deepEqual(
      events.map((e) => e.ip),
      ['127.0.0.1', '203.0.113.3'],
    );
  });

  it('Registration.clientAddress applies the same rule for the host’s own endpoints', () => {
    const trusting = makeRegistration({ trustProxy: ['10.0.0.1'] });
    assert.equal(trusting.clientAddress('10.0.0.1', '203.0.113.5, 10.0.0.1'), '203.0.113.5');
    assert.equal(trusting.clientAddress('::ffff:10.0.0.1', '203.0.113.5'), '203.0.113.5');
    assert.equal(trusting.clientAddress('198.51.100.1', '203.0.113.5'), '198.51.100.1');
    assert.equal(trusting.clientAddress(undefined, '203.0.113.5'), undefined);
    const plain = makeRegistration();
    assert.equal(plain.clientAddress('::ffff:198.51.100.1', '203.0.113.5'), '198.51.100.1');
  });
});

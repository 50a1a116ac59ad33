import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { requireService } from '../../../oauth-dcr/test/support/services.js';
import { postFormFrom, type PlainResponse } from '../support/http-from-address.js';
import { postJsonFrom } from '../support/json-from-address.js';
import { authorizationUrl, BrowserlessUser, parseForm, pkcePair, registerClient } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, DEMO_USERNAME, startTestServer, type TestServer } from '../support/reference-server.js';

/**
 * Counters in Redis (REDIS_URL): two instances count together, and when Redis becomes
 * unreachable each limit keeps its documented choice: registration limits fail open (a
 * registration still gets 201), sign-in fails closed (refused with a page, never a 500 or a hang).
 * The outage is a TCP proxy this test owns and cuts; the real Redis is never stopped.
 */
const redisUrl = requireService('DCR_TEST_REDIS_URL', process.env.DCR_TEST_REDIS_URL);

/** Forwards to Redis until cut; `restore` listens again on the same port. */
class CuttableProxy {
  readonly #target: URL;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(target: string) {
    this.#target = new URL(target);
  }

  async start(): Promise<void> {
    const server = createServer((inbound) => {
      const outbound = new Socket();
      this.#track(inbound);
      this.#track(outbound);
      outbound.connect(Number(this.#target.port || 6379), this.#target.hostname);
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }

  /** Refuses new connections and drops the open ones, as a network outage would. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  url(): string {
    const url = new URL(this.#target.href);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.href;
  }
}

describe('rate limits and the login throttle in Redis', { skip: !redisUrl }, () => {
  const prefix = `dcr-test-${randomUUID()}:`;
  const proxy = new CuttableProxy(redisUrl ?? 'redis://127.0.0.1:6379');
  let a: TestServer;
  let b: TestServer;
  /** A public client registered on each instance (each keeps its own clients: memory storage). */
  const clientIds = new Map<TestServer, string>();
  const payload = { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' };

  before(async () => {
    await proxy.start();
    const env = { DCR_REDIS_KEY_PREFIX: prefix, DCR_LIMIT_REGISTER_PER_ADDRESS: '3/1h' };
    // A reaches Redis through the proxy, B directly: cutting the proxy is an outage for A alone.
    a = await startTestServer({ store: 'memory', env: { ...env, REDIS_URL: proxy.url() } });
    b = await startTestServer({ store: 'memory', env: { ...env, REDIS_URL: redisUrl! } });
    // Two registrations from 127.0.0.1, one on each instance.
    for (const server of [a, b]) clientIds.set(server, (await registerClient(server.url, payload)).client_id);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await proxy.cut();
    const redis = new Redis(redisUrl!);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  async function signIn(server: TestServer, from: string, password: string): Promise<PlainResponse> {
    const user = new BrowserlessUser();
    const page = await user.get(
      authorizationUrl(server.url, {
        client_id: clientIds.get(server)!,
        redirect_uri: 'http://127.0.0.1:4000/callback',
        state: 'st',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }).href,
    );
    assert.equal(page.status, 200);
    const form = parseForm(await page.text());
    return postFormFrom(
      from,
      `${server.url}/authorize/login`,
      { ...form.fields, username: DEMO_USERNAME, password },
      { cookie: user.jar.header() },
    );
  }

  it('two instances spend one registration limit', async () => {
    // The third registration from 127.0.0.1 (one on each instance before): both now refuse it.
    const third = await postJsonFrom('127.0.0.1', `${a.url}/register`, payload);
    assert.equal(third.status, 201, third.body);
    assert.equal((await postJsonFrom('127.0.0.1', `${a.url}/register`, payload)).status, 429);
    assert.equal((await postJsonFrom('127.0.0.1', `${b.url}/register`, payload)).status, 429);
    assert.equal((await postJsonFrom('127.0.0.2', `${b.url}/register`, payload)).status, 201);
  });

  it('two instances spend one login throttle', async () => {
    // 10 wrong passwords per address and username per 15 minutes, counted across A and B.
    for (let i = 0; i < 10; i++) {
      const response = await signIn(i % 2 === 0 ? a : b, '127.0.0.3', `wrong-${i}`);
      assert.equal(response.status, 401, `attempt ${i}`);
    }
    assert.equal((await signIn(a, '127.0.0.3', 'wrong-again')).status, 429);
    assert.equal((await signIn(b, '127.0.0.3', DEMO_PASSWORD)).status, 429);
    assert.equal((await signIn(b, '127.0.0.4', DEMO_PASSWORD)).status, 303);
  });

  it('with Redis cut: registration fails open (201), sign-in fails closed (refused, no 500)', async () => {
    await proxy.cut();
    // 127.0.0.5 never registered: over no limit, and Redis cannot be asked.
    for (let i = 0; i < 5; i++) {
      const response = await postJsonFrom('127.0.0.5', `${a.url}/register`, payload);
      assert.equal(response.status, 201, response.body);
    }
    // The right password is refused: the throttle cannot count, so no password is checked.
    const refused = await signIn(a, '127.0.0.6', DEMO_PASSWORD);
    assert.ok(refused.status === 503 || refused.status === 429, `status ${refused.status}`);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.match(String(refused.headers['content-type']), /^text\/html/);
    // B, on the real Redis, is unaffected.
    assert.equal((await signIn(b, '127.0.0.6', DEMO_PASSWORD)).status, 303);

    await proxy.start();
    let back: PlainResponse | undefined;
    for (let i = 0; i < 50 && back?.status !== 303; i++) {
      back = await signIn(a, '127.0.0.6', DEMO_PASSWORD);
      if (back.status !== 303) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(back?.status, 303, 'sign-in came back with Redis');
  });
});

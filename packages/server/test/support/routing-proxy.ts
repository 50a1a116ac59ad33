import { randomInt } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The one address several reference-server instances sit behind in the tests (support/instances.ts),
 * and requests sent from chosen loopback source addresses.
 */
/** A random source address on the loopback interface (Linux answers all of 127.0.0.0/8). */
export function randomLoopbackAddress(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

export interface ServedRequest {
  instance: string;
  method: string;
  path: string;
  /** The instance's status, or 502 when the proxy could not reach it. */
  status: number;
  /** The proxy's own error, when the instance could not be reached or hung up. */
  error?: string;
}

/**
 * A small HTTP reverse proxy: the ONE address clients see (the issuer). Each request, not each
 * connection, goes to the next instance in turn (no sticky routing, not even by keep-alive), or
 * to the pinned one, so that a test can say which instance serves each step. It is transparent
 * as to the source address: its connection to the instance is bound to the client's own
 * loopback address (like a layer-4 balancer that preserves client IPs), so per-address limits
 * see the real client without trusting any header.
 */
export class RoutingProxy {
  readonly #server: Server;
  readonly #upstreams = new Map<string, URL>();
  readonly #agents = new Map<string, Agent>();
  #turn = 0;
  #pinned: string | undefined;
  /** What the test's own clients (connecting from 127.0.0.1) look like to the instances. */
  readonly clientAddress: string;
  /** Every request, in the order it was answered. */
  readonly served: ServedRequest[] = [];
  /** Requests sent to each instance so far, answered or not. */
  readonly routed = new Map<string, number>();
  url = '';

  private constructor(clientAddress: string) {
    this.clientAddress = clientAddress;
    this.#server = createServer((req, res) => this.#forward(req, res));
  }

  /**
   * `clientAddress` stands in for 127.0.0.1, which every test on this machine shares: counters
   * kept in a shared Redis are keyed by address, and other tests' requests must not spend ours.
   * A client that connects from any other loopback address keeps it.
   */
  static async start(clientAddress = randomLoopbackAddress()): Promise<RoutingProxy> {
    const proxy = new RoutingProxy(clientAddress);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.url = `http://127.0.0.1:${(proxy.#server.address() as AddressInfo).port}`;
    return proxy;
  }

  /** Puts an instance into the rotation. */
  add(instance: { name: string; url: string }): void {
    this.#upstreams.set(instance.name, new URL(instance.url));
  }

  /** Sends every request to `name` until unpinned (undefined: round robin again). */
  pin(name: string | undefined): void {
    if (name !== undefined && !this.#upstreams.has(name)) throw new Error(`no instance ${name} behind the proxy`);
    this.#pinned = name;
  }

  /** Runs `step` with every request pinned to `name`; fails if none of them reached it. */
  async on<T>(name: string, step: () => Promise<T>): Promise<T> {
    this.pin(name);
    const before = this.routed.get(name) ?? 0;
    let result: T;
    try {
      result = await step();
    } finally {
      this.pin(undefined);
    }
    // A step that never reached its instance would prove nothing about it.
    if ((this.routed.get(name) ?? 0) === before) throw new Error(`no request of the step reached ${name}`);
    return result;
  }

  async close(): Promise<void> {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #choose(): string {
    if (this.#pinned) return this.#pinned;
    const names = [...this.#upstreams.keys()];
    if (names.length === 0) throw new Error('no instance behind the proxy');
    return names[this.#turn++ % names.length]!;
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const name = this.#choose();
    const upstream = this.#upstreams.get(name)!;
    this.routed.set(name, (this.routed.get(name) ?? 0) + 1);
    const source = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const localAddress = source.startsWith('127.') && source !== '127.0.0.1' ? source : this.clientAddress;
    const path = req.url ?? '/';
    const record = (status: number, error?: string) =>
      this.served.push({
        instance: name,
        method: req.method ?? 'GET',
        path: path.split('?', 1)[0]!,
        status,
        ...(error ? { error } : {}),
      });
    const headers = { ...req.headers };
    // Hop-by-hop (RFC 9110 §7.6.1): the proxy's own connections are its business.
    delete headers.connection;
    delete headers['keep-alive'];
    const outgoing = request({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path,
      headers,
      localAddress,
      agent: this.#agent(name, localAddress),
    });
    outgoing.on('response', (incoming) => {
      record(incoming.statusCode ?? 0);
      const answer = { ...incoming.headers };
      delete answer.connection;
      delete answer['keep-alive'];
      res.writeHead(incoming.statusCode ?? 502, answer);
      incoming.pipe(res);
    });
    outgoing.on('error', (error) => {
      record(502, error.message);
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'server_error', error_description: `proxy: ${name}: ${error.message}` }));
      } else res.destroy();
    });
    req.pipe(outgoing);
  }

  /** Keep-alive connections per instance and source address (a socket is bound to one address). */
  #agent(name: string, localAddress: string): Agent {
    const key = `${name}|${localAddress}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 16 });
      this.#agents.set(key, agent);
    }
    return agent;
  }
}

export interface PlainAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request sent from a chosen loopback source address (the socket is bound to it), so
 * that the proxy, and behind it the instance, sees that address as the client's.
 */
export function requestFrom(
  localAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<PlainAnswer> {
  const body = options.body ?? '';
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: options.method ?? 'GET',
        localAddress,
        agent: false,
        headers: { ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...options.headers },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

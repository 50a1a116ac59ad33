import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError } from './config.js';

/** The metrics listener: a node:http server of its own, never the public one. */
export interface MetricsListener {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** A scrape is a short GET; anything slower than this is not Prometheus and is cut. */
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;

/**
 * Serves `registry` as GET (or HEAD) /metrics in the text format on host:port, and nothing else:
 * any other path is 404 and any other method 405, both in JSON like every error of the server.
 * Port 0 picks a free port; the bound one is returned.
 */
export async function listenForScrapes(registry: Registry, host: string, port: number): Promise<MetricsListener> {
  const server = createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS },
    (req, res) => {
      answerScrape(registry, req, res).catch(() => {
        if (!res.headersSent) sendJson(res, 500, 'server_error', 'The metrics could not be collected');
        else res.destroy();
      });
    },
  );
  await bind(server, host, port);
  return {
    host,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scrape holds nothing worth waiting for; a keep-alive connection would hold close() open.
        server.closeAllConnections();
      }),
  };
}

async function answerScrape(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path !== '/metrics') {
    sendJson(res, 404, 'invalid_request', 'Only /metrics is served here');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendJson(res, 405, 'invalid_request', 'Use GET /metrics');
    return;
  }
  const text = await registry.metrics();
  res.writeHead(200, {
    'Content-Type': registry.contentType,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function sendJson(res: ServerResponse, status: number, error: string, description: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(JSON.stringify({ error, error_description: description }));
}

/** Binds, or says in one line which setting is at fault (as the public port's bind does). */
async function bind(server: Server, host: string, port: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (code === 'EADDRINUSE') throw new ConfigError(`DCR_METRICS_PORT: ${where} is already in use`);
    if (code === 'EACCES') throw new ConfigError(`DCR_METRICS_PORT: not allowed to listen on ${where}`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      throw new ConfigError(`DCR_METRICS_HOST: ${host} is not an address of this machine`);
    throw error;
  }
}

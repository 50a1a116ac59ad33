import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AuditEvent, ClientStore } from 'oauth-dcr';
import type { RegistrationMetrics } from 'oauth-dcr/prometheus';
import type { Counter, Histogram, Registry } from 'prom-client';
import type { ServerConfig } from './config.js';
import { listenForScrapes, type MetricsListener } from './metrics-listener.js';

/**
 * The server's Prometheus metrics (DCR_METRICS_PORT): the library's registration metrics
 * (oauth-dcr/prometheus), token requests, request latency per route and the process's own
 * metrics, served on a listener of their own (metrics-listener.ts), never on the public port.
 */
export interface ServerMetrics {
  /** Times the request from now until its response finishes, under a route label. */
  observeRequest(req: IncomingMessage, res: ServerResponse, route: string): void;
  /** One token request: its grant_type (or 'unknown') and outcome ('success' or the OAuth error code). */
  tokenRequest(grantType: string, outcome: string): void;
  /** Every registration event (registrations, refusals, rate limits, document fetches). */
  onEvent(event: AuditEvent): void;
  /** Starts the metrics listener when configured. */
  start(): Promise<void>;
  /** Where the metrics listener is bound, once started; undefined when metrics are off. */
  address(): { host: string; port: number } | undefined;
  close(): Promise<void>;
}

/** The route labels of the latency histogram; anything else is counted as `other`. */
export const METRIC_ROUTES = [
  'register',
  'token',
  'authorize',
  'introspect',
  'revoke',
  'jwks',
  'metadata',
  'admin',
  'other',
] as const;

/**
 * The server's metrics. Without DCR_METRICS_PORT (`config.metrics` unset) every method does
 * nothing and prom-client is never loaded: the hot path pays one empty call. `clients` is the
 * store the clients-per-tier gauge counts (the registration's store); without it the library's
 * metrics are left out.
 */
export function createServerMetrics(config: Pick<ServerConfig, 'metrics'> = {}, clients?: ClientStore): ServerMetrics {
  return config.metrics === undefined ? METRICS_OFF : prometheusMetrics(config.metrics, clients);
}

const METRICS_OFF: ServerMetrics = Object.freeze({
  observeRequest() {},
  tokenRequest() {},
  onEvent() {},
  start: async () => {},
  address: () => undefined,
  close: async () => {},
});

interface Instruments {
  registry: Registry;
  requestDuration: Histogram<'route' | 'status'>;
  tokenRequests: Counter<'grant_type' | 'outcome'>;
  registration?: RegistrationMetrics;
}

function prometheusMetrics(settings: { host: string; port: number }, clients: ClientStore | undefined): ServerMetrics {
  // Built by start(): prom-client is loaded only when metrics are on. Until then nothing is
  // counted; server.ts starts the metrics before it serves the requests that waited for storage.
  let instruments: Instruments | undefined;
  let listener: MetricsListener | undefined;
  let starting: Promise<void> | undefined;
  return {
    observeRequest(_req, res, route) {
      const histogram = instruments?.requestDuration;
      if (histogram === undefined) return;
      const started = performance.now();
      // 'close' follows every response, finished or cut short (a client that went away).
      res.once('close', () => {
        const status = res.writableFinished ? statusLabel(res.statusCode) : 'aborted';
        histogram.observe({ route: routeLabel(route), status }, (performance.now() - started) / 1000);
      });
    },
    tokenRequest(grantType, outcome) {
      instruments?.tokenRequests.inc({ grant_type: grantLabel(grantType), outcome: tokenOutcomeLabel(outcome) });
    },
    onEvent(event) {
      instruments?.registration?.onEvent(event);
    },
    start() {
      starting ??= (async () => {
        instruments = await createInstruments(clients);
        listener = await listenForScrapes(instruments.registry, settings.host, settings.port);
      })();
      return starting;
    },
    address: () => (listener === undefined ? undefined : { host: listener.host, port: listener.port }),
    async close() {
      await starting?.catch(() => {});
      await listener?.close();
      listener = undefined;
    },
  };
}

/** A registry of this server's own (two servers in one process, as in tests, never collide). */
async function createInstruments(clients: ClientStore | undefined): Promise<Instruments> {
  const [prometheus, { registrationMetrics }] = await Promise.all([
    import('prom-client'),
    import('oauth-dcr/prometheus'),
  ]);
  const registry = new prometheus.Registry();
  // process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_seconds, ...
  prometheus.collectDefaultMetrics({ register: registry });
  const requestDuration = new prometheus.Histogram({
    name: 'oauth_dcr_http_request_duration_seconds',
    help: 'Time from a request to its response, by route and HTTP status',
    labelNames: ['route', 'status'] as const,
    // Registration and token requests take about a millisecond; consent pages and metadata-document
    // fetches up to seconds.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const tokenRequests = new prometheus.Counter({
    name: 'oauth_dcr_token_requests_total',
    help: 'Token endpoint requests by grant type and outcome (success or the RFC 6749 §5.2 error code)',
    labelNames: ['grant_type', 'outcome'] as const,
    registers: [registry],
  });
  const instruments: Instruments = { registry, requestDuration, tokenRequests };
  if (clients !== undefined)
    instruments.registration = registrationMetrics({ registration: { store: clients }, registry });
  return instruments;
}

const ROUTES: ReadonlySet<string> = new Set(METRIC_ROUTES);

/**
 * Grant types by their registered names (RFC 6749 §4, RFC 7523, RFC 8628, RFC 8693). The
 * grant_type a requester sends is its own choice: anything else is `other`, so it cannot grow the
 * series.
 */
const GRANT_TYPES: ReadonlySet<string> = new Set([
  'unknown',
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'password',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:saml2-bearer',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange',
]);

/** RFC 6749 §5.2 token error codes, RFC 8707 §2 invalid_target, and the server's own failures. */
const TOKEN_OUTCOMES: ReadonlySet<string> = new Set([
  'success',
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'server_error',
  'temporarily_unavailable',
]);

function routeLabel(route: string): string {
  return ROUTES.has(route) ? route : 'other';
}

function grantLabel(grantType: string): string {
  return GRANT_TYPES.has(grantType) ? grantType : 'other';
}

function tokenOutcomeLabel(outcome: string): string {
  return TOKEN_OUTCOMES.has(outcome) ? outcome : 'other';
}

function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other';
}

import type { Counter, Registry } from 'prom-client';
import { REGISTRATION_ERROR_CODES } from '../core/errors.js';
import { importPeer } from '../core/peer-dependency.js';
import type { Registration } from '../protocol/create-registration.js';
import {
  REGISTRATION_TIERS,
  type AuditEvent,
  type ClientCounts,
  type ClientStore,
  type RegistrationVia,
} from '../store/types.js';

// prom-client is an optional peer: without it, importing this subpath fails with one line saying
// what to install (see core/peer-dependency.ts for why this is a dynamic import).
const prometheus = await importPeer(() => import('prom-client'), {
  subpath: 'oauth-dcr/prometheus',
  packages: ['prom-client'],
  install: 'npm install prom-client',
});

export interface RegistrationMetricsOptions {
  /**
   * The endpoint whose clients the `clients` gauge counts (through its `store`). The gauge is read
   * only on scrape, so `{ store }` fits as well, for a host that builds the metrics before the
   * endpoint (whose `onEvent` option must already name them).
   */
  registration: Pick<Registration, 'store'>;
  /** Where the metrics are registered: prom-client's global `register` unless given. */
  registry?: Registry;
  /** Put before every metric name; default `oauth_dcr_`. */
  prefix?: string;
  /**
   * Seconds a client count is reused before the store is counted again (default 15). Counting a
   * SQL store is a scan: without this a scrape storm, or several Prometheus servers, would scan a
   * million rows each time.
   */
  clientCountMaxAge?: number;
}

export interface RegistrationMetrics {
  /** Pass as (or call from) the endpoint's `onEvent` option: it counts the events below. */
  onEvent(event: AuditEvent): void;
  /** The registry the metrics are in: serve `await registry.metrics()` as `registry.contentType`. */
  readonly registry: Registry;
}

/**
 * Prometheus metrics of a registration endpoint, built from its events (the `onEvent` option):
 *
 * - `oauth_dcr_registrations_total{tier, outcome}`: outcome `success` or the error code (RFC 7591
 *   §3.2.2); tier is the trust tier, `unknown` when a refusal came before admission.
 * - `oauth_dcr_rate_limited_keys_total{limit, endpoint}`: keys (an address, a token, a software, a
 *   document host, a client) that went over a rate limit, by key kind. The limits report the first
 *   refusal of a key per window only (a flood must not become a flood of audit writes), so a flood
 *   from one address counts once per window; every refused request is a 429 in the host's own
 *   request metrics (the reference server's latency histogram has a status label).
 * - `oauth_dcr_client_document_fetches_total{outcome}`: Client ID Metadata Document fetches.
 * - `oauth_dcr_client_authentication_failures_total{endpoint}`: failed client authentication as
 *   the endpoints report it: RFC 7592's wrong registration access tokens (every one) under
 *   `client_configuration`; at the token, revocation and introspection endpoints a failure past
 *   the limit is reported as a rate-limit refusal instead.
 * - `oauth_dcr_clients{tier}`: stored clients per tier (disabled ones included), read on scrape.
 *
 * Label values come from fixed sets: a client_id, an address, a document host or anything else
 * a requester chooses never becomes a label, so the number of series stays small under attack.
 */
export function registrationMetrics(options: RegistrationMetricsOptions): RegistrationMetrics {
  const store = options.registration?.store;
  if (store === undefined || typeof store.countClients !== 'function') {
    throw new TypeError('registrationMetrics: `registration` must be a Registration (or { store })');
  }
  const registry = options.registry ?? prometheus.register;
  const prefix = options.prefix ?? 'oauth_dcr_';
  const maxAgeSeconds = options.clientCountMaxAge ?? 15;
  if (!(maxAgeSeconds >= 0)) throw new TypeError('registrationMetrics: `clientCountMaxAge` must be >= 0 seconds');

  const counter = <Label extends string>(name: string, help: string, labelNames: Label[]): Counter<Label> =>
    new prometheus.Counter({ name: `${prefix}${name}`, help, labelNames, registers: [registry] });
  const registrations = counter('registrations_total', 'Registration attempts by trust tier and outcome', [
    'tier',
    'outcome',
  ]);
  const rateLimited = counter(
    'rate_limited_keys_total',
    'Keys that went over a rate limit, by key kind: once per key and limit window',
    ['limit', 'endpoint'],
  );
  const documentFetches = counter('client_document_fetches_total', 'Client ID Metadata Document fetches', ['outcome']);
  const authenticationFailures = counter(
    'client_authentication_failures_total',
    'Failed client authentications at the token, revocation, introspection and RFC 7592 endpoints',
    ['endpoint'],
  );
  const clientCounts = cachedClientCounts(store, maxAgeSeconds * 1000);
  new prometheus.Gauge({
    name: `${prefix}clients`,
    help: 'Stored clients per trust tier, disabled ones included',
    labelNames: ['tier'],
    registers: [registry],
    async collect() {
      const counts = await clientCounts();
      // A failed count keeps the last values: a metrics scrape must not fail because the store did.
      if (counts === undefined) return;
      for (const tier of TIERS) this.set({ tier }, counts.byTier[tier] ?? 0);
    },
  });

  const onEvent = (event: AuditEvent): void => {
    const detail = event.detail ?? {};
    switch (event.type) {
      case 'client.registered':
        registrations.inc({ tier: tierLabel(detail.via), outcome: 'success' });
        return;
      case 'registration.rejected':
        registrations.inc({ tier: tierLabel(detail.via), outcome: errorLabel(detail.error) });
        return;
      case 'request.rate_limited':
        rateLimited.inc({ limit: nameLabel(detail.limit), endpoint: nameLabel(detail.endpoint) });
        return;
      case 'client_document.fetched':
        documentFetches.inc({
          outcome: DOCUMENT_OUTCOMES.has(detail.outcome as string) ? (detail.outcome as string) : 'other',
        });
        return;
      case 'client.authentication_failed':
        authenticationFailures.inc({ endpoint: nameLabel(detail.endpoint) });
        return;
      // A wrong registration access token at RFC 7592's client configuration endpoint (§2) is
      // that endpoint's failed client authentication; it keeps its own event type.
      case 'token.rejected':
        authenticationFailures.inc({ endpoint: nameLabel(detail.endpoint ?? 'client_configuration') });
        return;
      default:
    }
  };
  return { onEvent, registry };
}

const TIERS: readonly RegistrationVia[] = REGISTRATION_TIERS;
const TIER_SET: ReadonlySet<string> = new Set(TIERS);
const ERROR_CODES: ReadonlySet<string> = new Set(REGISTRATION_ERROR_CODES);
const DOCUMENT_OUTCOMES: ReadonlySet<string> = new Set(['ok', 'refused', 'error']);
/** Key kinds and endpoint names are the library's and the host's own words, never a requester's. */
const NAME = /^[a-z][a-z0-9_]{0,31}$/;

function tierLabel(via: unknown): string {
  return typeof via === 'string' && TIER_SET.has(via) ? via : 'unknown';
}

/** A code outside the known set (a hook's typo, say) is `other`, so codes never grow the series. */
function errorLabel(code: unknown): string {
  return typeof code === 'string' && ERROR_CODES.has(code) ? code : 'other';
}

function nameLabel(name: unknown): string {
  if (name === undefined) return 'unknown';
  return typeof name === 'string' && NAME.test(name) ? name : 'other';
}

/**
 * The store's client counts, counted at most once per `maxAgeMs`. Concurrent scrapes of a stale
 * count share one count; a failed count resolves the last good one (or undefined) and is retried
 * on the next scrape.
 */
function cachedClientCounts(store: ClientStore, maxAgeMs: number): () => Promise<ClientCounts | undefined> {
  let last: { counts: ClientCounts; at: number } | undefined;
  let counting: Promise<ClientCounts | undefined> | undefined;
  return () => {
    if (last !== undefined && Date.now() - last.at < maxAgeMs) return Promise.resolve(last.counts);
    counting ??= store
      .countClients()
      .then(
        (counts) => {
          last = { counts, at: Date.now() };
          return counts;
        },
        () => last?.counts,
      )
      .finally(() => {
        counting = undefined;
      });
    return counting;
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEvent } from 'oauth-dcr';

/**
 * The server's Prometheus metrics (DCR_METRICS_PORT). SCAFFOLD: counts nothing yet; the metrics
 * work replaces it with prom-client.
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

export function createServerMetrics(): ServerMetrics {
  return {
    observeRequest() {},
    tokenRequest() {},
    onEvent() {},
    start: async () => {},
    address: () => undefined,
    close: async () => {},
  };
}

import type { ResolvedDocumentOptions } from '../core/document-options.js';
import type { RegistrationOptions, Tier } from '../core/options.js';
import type { RegistrationContext } from '../core/hook-context.js';
import type { ClientMetadata } from '../core/client-metadata.js';
import { isRegistrationError } from '../core/errors.js';
import { validateClientMetadata, type MetadataRules } from '../metadata/validate.js';
import { cacheLifetime, type LifetimeBounds } from '../net/cache-lifetime.js';
import { createLoadingCache } from '../net/loading-cache.js';
import type { SafeFetchOptions } from '../net/safe-fetch.js';
import { deepFreeze } from '../store/frozen.js';
import { checkClientIdUrl } from './client-id-url.js';
import { checkDocumentRules, documentAuthMethods } from './document-rules.js';
import { fetchClientDocument } from './fetch-document.js';
import { DocumentRefusal, invalidClient, invalidDocument } from './refusal.js';
import type { Limits } from '../limits/limits.js';
import type { AuditEvent, ClientRecord } from '../store/types.js';

/** What a client_id URL resolved to: the client its document describes, or why it cannot be used. */
export type DocumentLookup =
  | { kind: 'found'; client: ClientRecord }
  | { kind: 'refused'; error: DocumentRefusal['error']; description: string };

/** Resolves https client_ids by their Client ID Metadata Document. */
export interface ClientDocuments {
  resolve(clientId: string): Promise<DocumentLookup>;
}

export interface ClientDocumentsSetup {
  options: ResolvedDocumentOptions;
  /** The deployment's metadata rules; the auth methods are narrowed to those a document may use. */
  rules: MetadataRules;
  /** The `metadata_document` tier's ceilings. */
  tier: Tier;
  outboundFetch: SafeFetchOptions;
  /** Clock in epoch seconds. */
  now: () => number;
  /** Where a failing operator hook is reported (the `onError` option). */
  onError: (error: unknown) => void;
  /** The deployment's own metadata rules (the `validateMetadata` option), run as for a registration. */
  validateMetadata?: RegistrationOptions['validateMetadata'];
  /** The per-host fetch limit (rateLimits.perDocumentHost); counted on cache misses only. */
  limits?: Pick<Limits, 'documentHost'>;
  /** Reports each fetch's outcome as `client_document.fetched` {outcome, host} (for metrics). */
  emit?: (event: Omit<AuditEvent, 'at'>) => void;
}

/** How a fetch ended: a usable document, a document (or URL) this server refuses, or no document at all. */
type FetchOutcome = 'ok' | 'refused' | 'error';

/**
 * draft-ietf-oauth-client-id-metadata-document-01 §4: check the URL (§3), ask the operator
 * (`allowFetch`), fetch (§4, §6.5, §6.6), check the document's own rules (§4.1), then run the
 * same metadata engine as a registration, held to the `metadata_document` tier. Valid documents
 * are cached within bounds (§4.4) and concurrent look-ups of a cold URL share one fetch; refusals
 * are never cached. `allowClient` runs on every look-up, cache hits included.
 */
export function createClientDocuments(setup: ClientDocumentsSetup): ClientDocuments {
  const { options, tier, outboundFetch, now } = setup;
  const rules: MetadataRules = {
    ...setup.rules,
    tokenEndpointAuthMethods: documentAuthMethods(setup.rules.tokenEndpointAuthMethods),
  };
  const bounds: LifetimeBounds = {
    defaultSeconds: options.cache.defaultTtlSeconds,
    minSeconds: options.cache.minTtlSeconds,
    maxSeconds: options.cache.maxTtlSeconds,
  };
  const nowMs = () => now() * 1000;
  const cache = createLoadingCache<ClientRecord>({ maxEntries: options.cache.maxEntries, now: nowMs });
  const urlRules = { allowQuery: options.allowQuery, maxLength: options.maxUrlLength };

  function reportFetch(outcome: FetchOutcome, host: string): void {
    setup.emit?.({ type: 'client_document.fetched', detail: { outcome, host } });
  }

  async function load(clientId: string, url: URL): Promise<{ value: ClientRecord; ttlSeconds: number }> {
    // §6.8: the operator's domain policy, before any traffic.
    if (options.allowFetch && !(await askOperator(() => options.allowFetch?.(new URL(url))))) {
      reportFetch('refused', url.host);
      throw invalidClient(`client not allowed: fetching the metadata document of ${url.host} is not permitted`);
    }
    // Only misses reach here (hits and concurrent look-ups of a cold URL share one load), so the
    // per-host limit counts fetches: one host cannot make this server fetch without end.
    const refusal = await setup.limits?.documentHost(url.host);
    if (refusal) {
      throw invalidClient(
        `client not allowed right now: too many metadata document fetches from ${url.host}; retry after ${refusal.retryAfter} seconds`,
      );
    }
    let fetched: Awaited<ReturnType<typeof fetchClientDocument>>;
    try {
      fetched = await fetchClientDocument(url, outboundFetch, options.timeoutMs);
    } catch (error) {
      reportFetch('error', url.host);
      throw error;
    }
    try {
      const value = await accept(clientId, fetched);
      reportFetch('ok', url.host);
      return value;
    } catch (error) {
      reportFetch('refused', url.host);
      throw error;
    }
  }

  async function accept(
    clientId: string,
    { document, headers }: Awaited<ReturnType<typeof fetchClientDocument>>,
  ): Promise<{ value: ClientRecord; ttlSeconds: number }> {
    const input = checkDocumentRules(document, clientId, rules.tokenEndpointAuthMethods);
    let metadata: ClientMetadata;
    try {
      metadata = await validateClientMetadata(input, rules, tier, 'metadata_document');
      metadata = await runValidateHook(clientId, metadata);
    } catch (error) {
      // The engine's and the hook's refusals (invalid_client_metadata, invalid_redirect_uri, ...)
      // all mean "this document is invalid".
      if (isRegistrationError(error)) throw invalidDocument(`Client ID Metadata Document is invalid: ${error.message}`);
      // Anything else is the host's fault: reported, and the client refused rather than a server error.
      setup.onError(error);
      throw invalidDocument('Client ID Metadata Document could not be checked against this server’s rules');
    }
    const fetchedAt = now();
    const client: ClientRecord = deepFreeze({
      clientId,
      metadata: { ...metadata },
      clientIdIssuedAt: fetchedAt,
      clientSecretExpiresAt: 0,
      registeredVia: 'metadata_document',
      createdAt: fetchedAt,
      updatedAt: fetchedAt,
    });
    return { value: client, ttlSeconds: cacheLifetime(headers, bounds, nowMs()) };
  }

  /**
   * The host's `validateMetadata`, the same hook a registration runs, told that the client comes
   * from a document: `registeredVia` is 'metadata_document' and `url` the document's URL.
   */
  async function runValidateHook(clientId: string, metadata: ClientMetadata): Promise<ClientMetadata> {
    if (!setup.validateMetadata) return metadata;
    const context: RegistrationContext = {
      method: 'GET',
      url: clientId,
      header: () => undefined,
      registeredVia: 'metadata_document',
    };
    return (await setup.validateMetadata(metadata, context)) ?? metadata;
  }

  /**
   * An operator hook's answer. A hook that throws refuses the client (fail closed) and is reported
   * to onError: the request gets a clear invalid_client, never a server error.
   */
  async function askOperator(hook: () => boolean | Promise<boolean> | undefined): Promise<boolean> {
    try {
      return (await hook()) === true;
    } catch (error) {
      setup.onError(error);
      return false;
    }
  }

  return {
    async resolve(clientId) {
      try {
        const url = checkClientIdUrl(clientId, urlRules);
        // Keyed by the exact string: the document must repeat it byte for byte (§4.1).
        const client = await cache.get(clientId, () => load(clientId, url));
        // §6.8: re-applied on every use, so a policy change holds cached clients too.
        if (options.allowClient && !(await askOperator(() => options.allowClient?.(client, new URL(url))))) {
          throw invalidClient(`client not allowed: ${url.host} is not permitted by this server's policy`);
        }
        return { kind: 'found', client };
      } catch (error) {
        if (error instanceof DocumentRefusal)
          return { kind: 'refused', error: error.error, description: error.message };
        throw error;
      }
    },
  };
}

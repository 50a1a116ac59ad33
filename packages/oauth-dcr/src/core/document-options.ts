import type { ClientRecord } from '../store/types.js';

/**
 * Client ID Metadata Documents: a client whose `client_id` is an https URL, resolved by fetching
 * the JSON document at that URL. Off by default in the library; the reference server turns it on.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-01
 */
export interface ClientIdMetadataDocumentOptions {
  /** Resolve https client_ids by their document, and advertise it (RFC 8414). Default false. */
  enabled?: boolean;
  /** Accept client_id URLs with a query (CIMD §3 SHOULD NOT). Default false. */
  allowQuery?: boolean;
  /** Longest client_id URL accepted, in characters. Default 2048. */
  maxUrlLength?: number;
  /**
   * Whether the document at `url` may be fetched at all: a domain allow or deny list, a rate
   * limit (CIMD §6.8). Called before every fetch; false refuses the client ("client not allowed").
   */
  allowFetch?: (url: URL) => boolean | Promise<boolean>;
  /**
   * Whether a resolved client may be used: called on every look-up, cache hits included, so a
   * policy change applies at once (CIMD §6.8). false refuses the client ("client not allowed").
   */
  allowClient?: (client: ClientRecord, url: URL) => boolean | Promise<boolean>;
  /** How long and how many documents are kept (CIMD §4.4). */
  cache?: DocumentCacheOptions;
  /** Time for the whole fetch (DNS, connect, headers, body), in ms. Default 5000. */
  timeoutMs?: number;
}

/** Bounds of the document cache. The document's Cache-Control max-age or Expires is honoured within them. */
export interface DocumentCacheOptions {
  /** Documents kept at most; the least recently used goes first. Default 1000. */
  maxEntries?: number;
  /** Floor for a document's lifetime, also what `no-store` gets. Default 60. */
  minTtlSeconds?: number;
  /** Ceiling for a document's lifetime. Default 86400 (24 h). */
  maxTtlSeconds?: number;
  /** Lifetime of a document whose response says nothing about it. Default 300. */
  defaultTtlSeconds?: number;
}

/** ClientIdMetadataDocumentOptions with every default applied and every value checked. */
export interface ResolvedDocumentOptions {
  enabled: boolean;
  allowQuery: boolean;
  maxUrlLength: number;
  allowFetch?: ClientIdMetadataDocumentOptions['allowFetch'];
  allowClient?: ClientIdMetadataDocumentOptions['allowClient'];
  cache: Required<DocumentCacheOptions>;
  timeoutMs: number;
}

const NAME = 'clientIdMetadataDocuments';

function fail(message: string): never {
  throw new TypeError(`oauth-dcr: ${NAME}.${message}`);
}

function positiveInteger(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(`${name} must be an integer >= ${min}`);
  }
  return value;
}

function optionalFunction<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(`${name} must be a function`);
  return value;
}

/** Checks the options once, at start-up: a mistake is a TypeError naming the setting. */
export function resolveDocumentOptions(options: ClientIdMetadataDocumentOptions | undefined): ResolvedDocumentOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new TypeError(`oauth-dcr: ${NAME} must be an object`);
  }
  const given = options ?? {};
  for (const name of ['enabled', 'allowQuery'] as const) {
    if (given[name] !== undefined && typeof given[name] !== 'boolean') fail(`${name} must be true or false`);
  }
  const cache = given.cache ?? {};
  if (typeof cache !== 'object' || cache === null) fail('cache must be an object');
  const resolvedCache = {
    maxEntries: positiveInteger('cache.maxEntries', cache.maxEntries, 1000, 0),
    minTtlSeconds: positiveInteger('cache.minTtlSeconds', cache.minTtlSeconds, 60, 0),
    maxTtlSeconds: positiveInteger('cache.maxTtlSeconds', cache.maxTtlSeconds, 86400, 0),
    defaultTtlSeconds: positiveInteger('cache.defaultTtlSeconds', cache.defaultTtlSeconds, 300, 0),
  };
  if (resolvedCache.minTtlSeconds > resolvedCache.maxTtlSeconds) {
    fail('cache.minTtlSeconds must not be above cache.maxTtlSeconds');
  }
  // A URL shorter than https://a.b/c cannot name a document.
  const maxUrlLength = positiveInteger('maxUrlLength', given.maxUrlLength, 2048, 14);
  return {
    enabled: given.enabled ?? false,
    allowQuery: given.allowQuery ?? false,
    maxUrlLength,
    allowFetch: optionalFunction('allowFetch', given.allowFetch),
    allowClient: optionalFunction('allowClient', given.allowClient),
    cache: resolvedCache,
    timeoutMs: positiveInteger('timeoutMs', given.timeoutMs, 5000),
  };
}

import { safeFetch, SafeFetchError, type SafeFetchOptions } from '../net/safe-fetch.js';
import { invalidClient } from './refusal.js';

/**
 * Fetching a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document-01 §4,
 * §6.5, §6.6), always through safe-fetch: https only, private and special-use addresses refused
 * on the address actually connected to, no cookies or credentials.
 */

/** §6.6: the draft recommends a 5 KiB limit; a document is a few hundred bytes. */
export const MAX_DOCUMENT_BYTES = 5 * 1024;

/**
 * `application/cimd+json` first (a pending draft change), then plain JSON; a response of any
 * `application/*+json` type is accepted too. The pattern is not sent (safe-fetch leaves it out of Accept).
 */
export const DOCUMENT_MEDIA_TYPES: readonly string[] = [
  'application/cimd+json',
  'application/json',
  'application/*+json',
];

export interface FetchedDocument {
  /** The parsed document: a JSON object. */
  document: Record<string, unknown>;
  /** The response's headers, for its cache lifetime. */
  headers: Headers;
}

/**
 * GETs the document at `url`. Any failure is a DocumentRefusal `invalid_client` naming the
 * reason: a redirect (§4 MUST NOT follow), a status other than 200 (§4), a body over 5 KiB, a
 * media type that is not JSON, a body that is not a JSON object.
 */
export async function fetchClientDocument(
  url: URL,
  outboundFetch: SafeFetchOptions,
  timeoutMs: number,
): Promise<FetchedDocument> {
  let body: unknown;
  let headers: Headers;
  try {
    const response = await safeFetch(url, {
      // The deployment's address allowances, CA and resolver stay; the limits are the document's.
      ...outboundFetch,
      accept: DOCUMENT_MEDIA_TYPES,
      maxBytes: MAX_DOCUMENT_BYTES,
      maxRedirects: 0,
      timeoutMs,
    });
    // §4: any status other than 200 is an error; a 3xx without Location arrives here too.
    if (response.status !== 200) {
      throw invalidClient(`Client ID Metadata Document could not be fetched: HTTP ${response.status}, expected 200`);
    }
    body = response.json();
    headers = response.headers;
  } catch (error) {
    if (error instanceof SafeFetchError) throw invalidClient(describeFetchFailure(error));
    throw error;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidClient('Client ID Metadata Document must be a JSON object');
  }
  return { document: body as Record<string, unknown>, headers };
}

function describeFetchFailure(error: SafeFetchError): string {
  const prefix = 'Client ID Metadata Document could not be fetched';
  switch (error.reason) {
    case 'too_many_redirects':
      return `${prefix}: the URL redirects, and redirects are not followed (CIMD §4)`;
    case 'too_large':
      return `${prefix}: larger than ${MAX_DOCUMENT_BYTES} bytes (CIMD §6.6)`;
    case 'invalid_json':
      return `${prefix}: the body is not valid JSON`;
    default:
      // safe-fetch's messages name the URL and the reason, never an internal address.
      return `${prefix}: ${error.message}`;
  }
}

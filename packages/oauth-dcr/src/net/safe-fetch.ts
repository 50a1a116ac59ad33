/**
 * The only way out to the network: every URL fetched on a client's behalf (jwks_uri,
 * sector_identifier_uri, software statement issuers' keys, Client ID Metadata Documents) goes
 * through safeFetch.
 *
 * Those URLs are chosen by whoever registers, so each request is treated as hostile (SSRF):
 * - https only, no credentials in the URL, GET only, nothing forwarded (no cookies, no auth);
 * - the host is resolved first and EVERY address is checked; the socket is then pinned to the
 *   checked addresses through a custom `lookup`, so a second DNS answer (rebinding) is never used,
 *   while TLS SNI, certificate checks and `Host` still use the hostname;
 * - each redirect hop is checked the same way, and there are few of them;
 * - one timer covers DNS, connect, headers and body of every hop; the body size is capped.
 */
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { TextDecoder } from 'node:util';
import { redact, redactText, SafeFetchError } from './safe-fetch-error.js';
import { acceptHeader, isAccepted, mediaType, parseAcceptList } from './media-type.js';
import { connectableAddress, isBlockedAddress, parseFetchAllowList } from './address-policy.js';

export { SafeFetchError, type SafeFetchErrorReason } from './safe-fetch-error.js';

/** dns.lookup called with `{ all: true }`; injectable so tests can make a name resolve anywhere. */
export type LookupAllFunction = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** Limits of one safeFetch call; the TEST ONLY ones loosen its protections and belong in tests alone. */
export interface SafeFetchOptions {
  /**
   * Media types the response may have (parameters such as charset are ignored), also sent as
   * `Accept`. A structured-syntax suffix pattern such as `application/*+json` (RFC 6838 §4.2.8)
   * accepts every type with that suffix; it is not sent, being no valid Accept range.
   * Default `['application/json']`.
   */
  accept?: readonly string[];
  /** Body cap in bytes. Default 100 KiB. */
  maxBytes?: number;
  /** Total time for DNS, connect, headers and body of all hops, in ms. Default 5000. */
  timeoutMs?: number;
  /** Redirects followed (301, 302, 303, 307, 308). Default 3; one more is an error. */
  maxRedirects?: number;
  /**
   * DEVELOPMENT AND TESTS ONLY: what may be reached despite the block list. IPs or CIDRs
   * (`'127.0.0.1'`, `'::1'`, `'10.0.0.0/8'`), or host names (`'localhost'`): a name allows whatever
   * it resolves to, for URLs naming that host only. Never set it in production.
   */
  allowAddresses?: readonly string[];
  /** TEST ONLY: CA certificate(s) to trust instead of the system roots. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** TEST ONLY: replaces dns.lookup for resolving hostnames. */
  lookup?: LookupAllFunction;
}

/** A response safeFetch let through: whole, within the limits, and of an accepted media type. */
export interface SafeFetchResponse {
  /** The final URL, after redirects. */
  url: string;
  /** The HTTP status of the final response. */
  status: number;
  /** The final response's headers. */
  headers: Headers;
  /** The media type without parameters, lower-cased ("application/json"); undefined when absent. */
  contentType: string | undefined;
  /** The whole body, at most `maxBytes`. */
  body: Buffer;
  /** The body parsed as UTF-8 JSON; throws SafeFetchError 'invalid_json'. */
  json(): unknown;
}

const DEFAULTS = { accept: ['application/json'], maxBytes: 100 * 1024, timeoutMs: 5000, maxRedirects: 3 };
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'oauth-dcr';

type Settings = ReturnType<typeof resolveOptions>;

/**
 * GETs a URL a client gave us, safely (see the top of this file): https only, every resolved
 * address checked and pinned, redirects re-checked, one timeout and a size cap. Rejects with a
 * SafeFetchError saying why. A 2xx must have an accepted media type; other statuses are returned
 * for the caller to judge.
 *
 * @see https://openid.net/specs/openid-connect-registration-1_0.html#SectorIdentifierValidation
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 */
export async function safeFetch(url: string | URL, options: SafeFetchOptions = {}): Promise<SafeFetchResponse> {
  const settings = resolveOptions(options);
  let target = checkUrl(url);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), settings.timeoutMs);
  try {
    for (let redirects = 0; ; redirects++) {
      const addresses = await resolveChecked(target, settings, controller.signal);
      const response = await send(target, addresses, settings, controller.signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(status) && location !== undefined) {
        response.destroy();
        if (redirects >= settings.maxRedirects) {
          const message = `more than ${settings.maxRedirects} redirects`;
          throw new SafeFetchError('too_many_redirects', redact(target), message);
        }
        target = checkUrl(resolveLocation(location, target));
        continue;
      }
      return await readResponse(target, response, settings);
    }
  } catch (error) {
    if (error instanceof SafeFetchError) throw error;
    if (controller.signal.aborted) {
      throw new SafeFetchError('timeout', redact(target), `no complete response within ${settings.timeoutMs} ms`);
    }
    throw new SafeFetchError('network', redact(target), `request failed (${describe(error)})`, { cause: error });
  } finally {
    clearTimeout(timer);
    // Tears down any socket still open (an unread redirect body, an error half-way through a body).
    controller.abort();
  }
}

/** safeFetch, then require a 200 and parse the body as JSON. */
export async function safeFetchJson(url: string | URL, options: SafeFetchOptions = {}): Promise<unknown> {
  return expectJson(await safeFetch(url, options));
}

/** The JSON body of a 200 response; anything else is a SafeFetchError ('status' or 'invalid_json'). */
export function expectJson(response: SafeFetchResponse): unknown {
  if (response.status !== 200) {
    throw new SafeFetchError('status', response.url, `expected status 200, got ${response.status}`, {
      status: response.status,
    });
  }
  return response.json();
}

function resolveOptions(options: SafeFetchOptions) {
  const accept = parseAcceptList(options.accept ?? DEFAULTS.accept);
  const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxRedirects = options.maxRedirects ?? DEFAULTS.maxRedirects;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new TypeError('safeFetch: maxBytes must be an integer >= 0');
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('safeFetch: timeoutMs must be > 0');
  if (!Number.isSafeInteger(maxRedirects) || maxRedirects < 0) {
    throw new TypeError('safeFetch: maxRedirects must be an integer >= 0');
  }
  return {
    accept,
    maxBytes,
    timeoutMs,
    maxRedirects,
    allowed: parseFetchAllowList(options.allowAddresses ?? []),
    ca: options.ca as string | Buffer | Array<string | Buffer> | undefined,
    lookup: options.lookup ?? (dnsLookup satisfies LookupAllFunction),
  };
}

/** Scheme and credentials, for the first URL and for every redirect target. */
function checkUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new SafeFetchError('invalid_url', redactText(String(input)), 'not an absolute URL');
  }
  // The fragment is never sent; dropping it keeps it out of messages and the final `url`.
  url.hash = '';
  if (url.protocol !== 'https:') throw new SafeFetchError('scheme', redact(url), 'only https URLs may be fetched');
  // Credentials in a client-supplied URL would be sent to whatever host it names.
  if (url.username !== '' || url.password !== '') {
    throw new SafeFetchError('credentials', redact(url), 'URLs with credentials may not be fetched');
  }
  return url;
}

function resolveLocation(location: string, base: URL): URL | string {
  try {
    return new URL(location, base);
  } catch {
    return location; // checkUrl reports it as invalid_url
  }
}

/** The hostname without IPv6 brackets, as dns and sockets want it. */
function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Resolves the host and checks every address before anything connects. One blocked address is
 * enough to refuse: which of them the socket would use is not ours to choose.
 */
async function resolveChecked(target: URL, settings: Settings, signal: AbortSignal): Promise<LookupAddress[]> {
  const host = bareHost(target);
  // The WHATWG parser has already turned 0x7f.1, 2130706433, 0177.0.0.1 into 127.0.0.1.
  const family = isIP(host);
  const resolved = family !== 0 ? [{ address: host, family }] : await resolveHost(host, target, settings, signal);
  if (resolved.length === 0) throw new SafeFetchError('dns', redact(target), 'the host has no addresses');
  // A host name on the development allow list lets through whatever it resolves to.
  const nameAllowed = settings.allowed.hostnames.has(host.toLowerCase());
  if (!nameAllowed && resolved.some(({ address }) => isBlockedAddress(address, settings.allowed.addresses))) {
    // The address itself stays out of the message: it would tell a registrant about internal DNS.
    throw new SafeFetchError('blocked_address', redact(target), 'the host resolves to a non-public address');
  }
  return resolved.map(({ address }) => connectableAddress(address));
}

function resolveHost(host: string, target: URL, settings: Settings, signal: AbortSignal): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void =>
      reject(new SafeFetchError('timeout', redact(target), `no complete response within ${settings.timeoutMs} ms`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (error: NodeJS.ErrnoException | null, addresses: LookupAddress[] | string): void => {
      signal.removeEventListener('abort', onAbort);
      if (error) {
        const message = `cannot resolve the host (${error.code ?? error.message})`;
        return reject(new SafeFetchError('dns', redact(target), message, { cause: error }));
      }
      // A lookup that ignores `all: true` answers with one address string.
      resolve(typeof addresses === 'string' ? [{ address: addresses, family: isIP(addresses) }] : addresses);
    };
    try {
      settings.lookup(host, { all: true, verbatim: true }, done);
    } catch (error) {
      done(error as NodeJS.ErrnoException, []);
    }
  });
}

/**
 * Sends the GET with the socket pinned to the checked addresses. `hostname` stays the name, so
 * node:https uses it for SNI, certificate verification and `Host`; only the lookup is replaced.
 */
function send(
  target: URL,
  addresses: LookupAddress[],
  settings: Settings,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        method: 'GET',
        hostname: bareHost(target),
        port: target.port === '' ? 443 : Number(target.port),
        path: `${target.pathname}${target.search}`,
        headers: { accept: acceptHeader(settings.accept), 'user-agent': USER_AGENT, 'accept-encoding': 'identity' },
        lookup: pinnedLookup(addresses),
        // No pooling: a kept-alive socket would outlive the check that let it connect.
        agent: false,
        ca: settings.ca,
        rejectUnauthorized: true,
        signal,
      },
      resolve,
    );
    req.on('error', reject);
    req.end();
  });
}

/** A lookup that answers only with addresses already checked, whatever name it is asked for. */
function pinnedLookup(addresses: LookupAddress[]) {
  return (
    _hostname: string,
    options: LookupOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const family = options.family === 4 || options.family === 6 ? options.family : undefined;
    const wanted = family === undefined ? addresses : addresses.filter((a) => a.family === family);
    const first = wanted[0];
    if (first === undefined) {
      const error: NodeJS.ErrnoException = new Error(`no checked IPv${String(options.family)} address`);
      error.code = 'ENOTFOUND';
      return callback(error, []);
    }
    if (options.all) callback(null, wanted);
    else callback(null, first.address, first.family);
  };
}

async function readResponse(target: URL, response: IncomingMessage, settings: Settings): Promise<SafeFetchResponse> {
  const url = redact(target);
  const status = response.statusCode ?? 0;
  const contentType = mediaType(response.headers['content-type']);
  // Error statuses come back to the caller whatever their type; a success must be what was asked for.
  if (status >= 200 && status < 300) {
    if (contentType === undefined || !isAccepted(contentType, settings.accept)) {
      const message = `expected ${settings.accept.join(' or ')}, got ${contentType ?? 'no content type'}`;
      throw new SafeFetchError('content_type', url, message);
    }
    const encoding = response.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      // We asked for identity; a compressed body could not be size-checked honestly nor parsed.
      throw new SafeFetchError('content_type', url, `unexpected content-encoding ${encoding}`);
    }
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > settings.maxBytes) {
    throw new SafeFetchError('too_large', url, `response is larger than ${settings.maxBytes} bytes`);
  }
  const body = await readBody(response, settings.maxBytes, url);
  const headers = new Headers();
  for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) {
    headers.append(response.rawHeaders[i] ?? '', response.rawHeaders[i + 1] ?? '');
  }
  return { url, status, headers, contentType, body, json: () => parseJson(body, url) };
}

/** Collects the body, destroying the stream as soon as it passes the cap (chunked bodies announce no size). */
function readBody(response: IncomingMessage, maxBytes: number, url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        reject(new SafeFetchError('too_large', url, `response is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks, size)));
    response.on('error', reject);
    // A close without 'end' (connection cut, or our own abort) must not leave the promise pending.
    response.on('close', () => {
      if (!response.complete) reject(new Error('connection closed before the body was complete'));
    });
  });
}

// `fatal` turns invalid UTF-8 into an error instead of U+FFFD; a leading BOM is skipped.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(body: Buffer, url: string): unknown {
  try {
    return JSON.parse(utf8.decode(body));
  } catch (error) {
    throw new SafeFetchError('invalid_json', url, 'the response is not valid JSON', { cause: error });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

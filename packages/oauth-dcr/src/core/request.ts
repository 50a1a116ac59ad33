import { RegistrationError, invalidMetadata } from './errors.js';

/**
 * The request as the core needs it, for `Registration.handleRaw`. A Web `Request` is adapted by
 * the endpoint itself (protocol/create-registration.ts); the node:http and Express adapters fill it
 * straight from `IncomingMessage`, which skips building a Web Request on the hot path.
 */
export interface RawRequest {
  /** The HTTP method, upper case (`GET`, `POST`, ...). */
  method: string;
  /** Absolute URL. */
  url: string;
  /** The path and query as received, when the adapter has them (saves parsing `url`). */
  path?: string;
  /** A request header by name (case-insensitive), or undefined when it was not sent. */
  header(name: string): string | undefined;
  /** The raw request body, or null when there is none. */
  body: AsyncIterable<Uint8Array> | null;
  /** The peer's IP address, for audit events. */
  remoteAddress?: string;
}

/** JSON deeper than this is refused before parsing: no real client metadata nests past 3. */
const MAX_JSON_DEPTH = 16;

/** Keys that could reach an object's prototype chain if the parsed value were ever merged. */
const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Reads and parses a JSON object body: Content-Type, size cap, depth cap, and prototype-poisoning
 * keys, each answered with a JSON error (413 for size, 400 for the rest).
 */
export async function readJsonObject(request: RawRequest, maxBytes: number): Promise<Record<string, unknown>> {
  const contentType = request.header('content-type');
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new RegistrationError(
      'invalid_request',
      `Content-Type must be application/json, got ${contentType ? JSON.stringify(contentType) : 'none'}`,
    );
  }
  const declared = Number(request.header('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);

  const text = await readText(request.body, maxBytes);
  if (text.trim().length === 0) throw invalidMetadata('Request body must be a JSON object, got an empty body');
  let value: unknown;
  try {
    // V8's JSON parser is iterative, so hostile nesting cannot exhaust the stack here; depth is
    // bounded right after, before anything recurses over the value.
    value = JSON.parse(text);
  } catch (error) {
    throw invalidMetadata(`Request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidMetadata(
      `Request body must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    );
  }
  if (!sanitizeJson(value)) throw invalidMetadata(`Request body JSON is nested deeper than ${MAX_JSON_DEPTH} levels`);
  return value as Record<string, unknown>;
}

/**
 * Removes prototype-poisoning keys in place, at every depth (JSON.parse makes them plain own
 * properties, but a later merge by assignment would not), and checks the depth. Returns false
 * when nested deeper than MAX_JSON_DEPTH. Every JSON that can become client metadata goes
 * through it: request bodies, software statement claims, Client ID Metadata Documents.
 */
export function sanitizeJson(value: object): boolean {
  return sanitize(value, 1);
}

export { MAX_JSON_DEPTH };

function sanitize(value: object, depth: number): boolean {
  if (depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && item !== null && !sanitize(item, depth + 1)) return false;
    return true;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (POISON_KEYS.has(key)) {
      delete record[key];
      continue;
    }
    const item = record[key];
    if (typeof item === 'object' && item !== null && !sanitize(item, depth + 1)) return false;
  }
  return true;
}

function tooLarge(maxBytes: number): RegistrationError {
  return new RegistrationError('invalid_request', `Request body is larger than ${maxBytes} bytes`, { status: 413 });
}

/**
 * The body stopped arriving: the client hung up mid-upload, or the server's request timeout cut
 * a stalled one. The client's doing, not a server fault: answered as invalid_request, never
 * reported through `onError`, and no refusal event (nothing was judged).
 */
export class IncompleteBodyError extends Error {
  override readonly name = 'IncompleteBodyError';
  constructor(cause: unknown) {
    super('The request body was not received in full', { cause });
  }
}

async function readText(body: AsyncIterable<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(chunk);
    }
  } catch (error) {
    // The loop body only throws RegistrationErrors; anything else came from the stream.
    if (error instanceof RegistrationError) throw error;
    throw new IncompleteBodyError(error);
  }
  const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer);
  } catch {
    throw invalidMetadata('Request body is not valid UTF-8');
  }
}

/** The bearer token from an Authorization header (RFC 6750 §2.1), or undefined. */
export function bearerToken(request: RawRequest): string | undefined {
  const header = request.header('authorization');
  if (!header) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}

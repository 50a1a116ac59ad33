/**
 * Parsers of single setting values (ports, durations, counts, URLs, files), shared by the settings
 * loader. Each throws a ConfigError whose message names the setting, so a bad value stops the
 * server at start.
 */
import { readFileSync } from 'node:fs';
import type { ClientAttestationOptions, RateLimit } from 'oauth-dcr';
import type { IntrospectionClient } from './config.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function redisUrlPassword(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const password = new URL(value).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new ConfigError(`PORT must be 0-65535, got ${JSON.stringify(value)}`);
  return port;
}

/** `N/duration` or `N/duration+burst` (`10/1m+20`), or `off`. */
export function parseRateLimit(name: string, value: string): RateLimit | false {
  if (/^(off|false|0)$/i.test(value.trim())) return false;
  const match = /^\s*(\d+)\s*\/\s*([^+\s]+)\s*(?:\+\s*(\d+))?\s*$/.exec(value);
  const duration = match ? parseDuration(match[2]!) : undefined;
  const points = match ? Number(match[1]) : 0;
  if (!match || duration === undefined || duration === 0 || points < 1)
    throw new ConfigError(`${name} must be like 10/1m or 10/1m+20 (a burst), or off; got ${JSON.stringify(value)}`);
  return { points, duration, ...(match[3] !== undefined ? { burst: Number(match[3]) } : {}) };
}

export function parseCount(name: string, value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value.trim());
}

/** Checked before any connection is tried, and never quoted back: it may hold a password. */
export function checkRedisUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('REDIS_URL must be a URL like redis://host:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got ${url.protocol}//`);
}

/** Checked before any connection is tried, and never quoted back: it may hold a password. */
export function checkDatabaseUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('DATABASE_URL must be a URL like postgres://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got ${url.protocol}//`);
  }
}

export function parseIssuer(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`ISSUER must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('ISSUER must be an http(s) URL');
  // RFC 8414 §2: the issuer identifier has no query or fragment component.
  if (url.search || url.hash) throw new ConfigError('ISSUER must not have a query or fragment');
  return value.replace(/\/+$/, '');
}

/** `client_id` or `client_id=resource|resource` (DCR_INTROSPECTION_CLIENTS). */
export function parseIntrospectionClient(entry: string): IntrospectionClient {
  const equals = entry.indexOf('=');
  if (equals < 0) return { clientId: entry };
  const clientId = entry.slice(0, equals).trim();
  const resources = entry
    .slice(equals + 1)
    .split('|')
    .map((value) => value.trim())
    .filter((value) => value.length > 0)
    .map((value) => parseResource('DCR_INTROSPECTION_CLIENTS', value));
  if (!clientId || resources.length === 0)
    throw new ConfigError('DCR_INTROSPECTION_CLIENTS: each entry is client_id or client_id=resource|resource');
  return { clientId, resources };
}

/** RFC 8707 §2: an absolute URI without a fragment. */
export function parseResource(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name}: a resource must be an absolute URI, got ${JSON.stringify(value)}`);
  }
  if (url.hash || value.includes('#'))
    throw new ConfigError(`${name}: a resource must not have a fragment (RFC 8707 §2)`);
  if (/\s/.test(value)) throw new ConfigError(`${name}: a resource must not contain spaces`);
  return value;
}

export function parseDemoUser(value: string): { username: string; password: string } {
  const colon = value.indexOf(':');
  const username = value.slice(0, colon);
  const password = value.slice(colon + 1);
  if (colon < 1 || password.length === 0) throw new ConfigError('DCR_DEMO_USER must be name:password');
  return { username, password };
}

export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function parseBoolean(name: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "300", "15m", "7d" -> seconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+)\s*([smhdw]?)$/i.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS[(match[2] || 's').toLowerCase()]!;
}

/**
 * Idle rules: a client gets at least an hour (the library's floor), so that a mistyped `24`
 * (seconds) cannot reap clients before they finish their first sign-in.
 */
export function parseAtLeastAnHour(name: string, value: string): number {
  const seconds = parseSeconds(name, value);
  if (seconds < 3600) throw new ConfigError(`${name}: each duration must be at least 1h, got ${JSON.stringify(value)}`);
  return seconds;
}

/** 0 keeps audit events forever; otherwise at least an hour (the library's floor). */
export function parseAuditRetention(value: string): number {
  const seconds = parseSeconds('DCR_AUDIT_RETENTION', value, true);
  if (seconds !== 0 && seconds < 3600)
    throw new ConfigError(`DCR_AUDIT_RETENTION must be 0 (forever) or at least 1h, got ${JSON.stringify(value)}`);
  return seconds;
}

export function parseSeconds(name: string, value: string, allowZero = false): number {
  const seconds = parseDuration(value);
  if (seconds === undefined || (!allowZero && seconds === 0)) {
    throw new ConfigError(`${name} must be a duration like 300, 15m or 7d, got ${JSON.stringify(value)}`);
  }
  return seconds;
}

/**
 * DCR_ATTESTERS: the attesters file, read at start. Its shape is checked here as JSON; its content
 * (keys, lists, numbers) by the library when the registration endpoint is built, which stops the
 * server at start too.
 */
export function readAttestersFile(path: string): Omit<ClientAttestationOptions, 'replayGuard' | 'challenge'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`DCR_ATTESTERS: cannot read ${path} as JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { attesters?: unknown }).attesters))
    throw new ConfigError('DCR_ATTESTERS: the file must be a JSON object with an "attesters" array');
  const { attesters, popMaxAgeSeconds, attestationMaxAgeSeconds } = parsed as ClientAttestationOptions;
  return {
    attesters,
    ...(popMaxAgeSeconds !== undefined ? { popMaxAgeSeconds } : {}),
    ...(attestationMaxAgeSeconds !== undefined ? { attestationMaxAgeSeconds } : {}),
  };
}

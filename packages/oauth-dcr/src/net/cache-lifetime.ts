/**
 * How long a fetched document may be reused: the server's own freshness (RFC 9111 §4.2.1),
 * clamped to the deployment's bounds. The floor stops a hostile or careless `no-store` from
 * making us refetch on every request; the ceiling bounds how long a revoked key or a changed
 * document can linger.
 */

/** The bounds a lifetime is clamped to, in seconds. */
export interface LifetimeBounds {
  /** Lifetime when the response says nothing about freshness. */
  defaultSeconds: number;
  /** Floor for any lifetime, also what `no-store`, `no-cache` and an expired `Expires` get. */
  minSeconds: number;
  /** Ceiling for any lifetime. */
  maxSeconds: number;
}

/**
 * Seconds the response may be reused, within `bounds`. RFC 9111 §4.2.1: `max-age` first, then
 * `Expires` minus `Date` (or minus our clock when the response has no usable Date).
 */
export function cacheLifetime(headers: Headers, bounds: LifetimeBounds, nowMs: number): number {
  const freshness = freshnessSeconds(headers, nowMs) ?? bounds.defaultSeconds;
  return Math.min(bounds.maxSeconds, Math.max(bounds.minSeconds, freshness));
}

/** The response's own freshness lifetime in seconds; undefined when it gives none. */
export function freshnessSeconds(headers: Headers, nowMs: number): number | undefined {
  const cacheControl = headers.get('cache-control');
  if (cacheControl !== null) {
    const directives = cacheControl
      .toLowerCase()
      .split(',')
      .map((d) => d.trim());
    // RFC 9111 §5.2.2.4, §5.2.2.5: nothing to reuse without revalidation; left to the floor.
    if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
    for (const directive of directives) {
      const match = /^max-age\s*=\s*"?(\d+)"?$/.exec(directive);
      if (match) return Number(match[1]);
    }
  }
  const expires = headers.get('expires');
  if (expires === null) return undefined;
  const expiresAt = Date.parse(expires);
  // RFC 9111 §5.3: an invalid Expires (such as "0") means already expired.
  if (Number.isNaN(expiresAt)) return 0;
  const date = Date.parse(headers.get('date') ?? '');
  const base = Number.isNaN(date) ? nowMs : date;
  return Math.max(0, Math.floor((expiresAt - base) / 1000));
}

/**
 * Slows password guessing at the login form: after `maxFailures` failed sign-ins for one
 * username from one address within `windowSeconds`, further attempts are refused until the
 * window ends. In memory, per instance; a successful sign-in clears the count.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly maxFailures = 10,
    private readonly windowSeconds = 15 * 60,
    private readonly maxKeys = 50_000,
  ) {}

  /** Seconds until the key may try again, or 0 if it may try now. */
  retryAfter(ip: string | undefined, username: string): number {
    const entry = this.#failures.get(keyOf(ip, username));
    const now = Math.floor(Date.now() / 1000);
    if (!entry || entry.resetAt <= now) return 0;
    return entry.count >= this.maxFailures ? entry.resetAt - now : 0;
  }

  recordFailure(ip: string | undefined, username: string): void {
    const key = keyOf(ip, username);
    const now = Math.floor(Date.now() / 1000);
    const entry = this.#failures.get(key);
    if (entry && entry.resetAt > now) {
      entry.count++;
      return;
    }
    if (this.#failures.size >= this.maxKeys) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    this.#failures.set(key, { count: 1, resetAt: now + this.windowSeconds });
  }

  recordSuccess(ip: string | undefined, username: string): void {
    this.#failures.delete(keyOf(ip, username));
  }
}

function keyOf(ip: string | undefined, username: string): string {
  return `${ip ?? '?'}\u0000${username.toLowerCase()}`;
}

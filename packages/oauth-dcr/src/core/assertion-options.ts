/**
 * Verification of `private_key_jwt` client assertions (RFC 7523 §3).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 */
export interface ClientAssertionOptions {
  /**
   * Remembers used `jti` values until the assertion expires. Default: in this process's memory,
   * which is right for one instance only: several instances must share one guard (a database).
   */
  replayGuard?: ClientAssertionReplayGuard;
  /** Longest lifetime (`exp` - `iat`) an assertion may have, in seconds. Default 300. */
  maxLifetimeSeconds?: number;
  /** The one `aud` value accepted. Default: the `issuer` option (RFC 10070 §4). */
  audience?: string;
}

/**
 * Single use of client assertions (RFC 7523 §3 item 7): `useOnce` answers true the first time it
 * sees `key`, false while it remembers it; `expiresAt` (epoch seconds) is when it may forget.
 * Shared by every instance of a deployment, or a replay goes to the next instance.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 */
export interface ClientAssertionReplayGuard {
  useOnce(key: string, expiresAt: number): Promise<boolean>;
}

/**
 * The client address: the socket's peer, or, when the peer is a trusted proxy (the trustProxy
 * option), the first untrusted address in X-Forwarded-For read from the right.
 * SCAFFOLD: trusts nothing yet; replaced by the rate-limit work.
 */
export function createClientAddressResolver(
  _trustProxy: readonly string[],
): (peer: string | undefined, forwardedFor: string | undefined) => string | undefined {
  return (peer) => peer;
}

import type { IncomingMessage } from 'node:http';

/**
 * The client's credentials at the token and revocation endpoints (RFC 6749 §2.3.1): HTTP Basic
 * (client_secret_basic) or body parameters (client_secret_post), or only a client_id for a
 * public client. Using both at once is refused (§2.3: "MUST NOT use more than one").
 */
export type ClientCredentials =
  | { kind: 'credentials'; clientId: string; clientSecret?: string }
  | { kind: 'missing' }
  | { kind: 'invalid'; description: string };

export function readClientCredentials(req: { headers: IncomingMessage['headers']; body?: unknown }): ClientCredentials {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const header = req.headers.authorization;
  const basic = header ? /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header) : null;
  if (header && !basic) return { kind: 'invalid', description: 'The Authorization header is not HTTP Basic' };
  if (basic) {
    if (body.client_secret !== undefined) return { kind: 'invalid', description: 'Use one client authentication method, not two' };
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'invalid', description: 'Malformed HTTP Basic credentials' };
    try {
      // §2.3.1: both parts are form-urlencoded before being joined.
      const clientId = formDecode(decoded.slice(0, colon));
      const clientSecret = formDecode(decoded.slice(colon + 1));
      if (typeof body.client_id === 'string' && body.client_id !== clientId) {
        return { kind: 'invalid', description: 'client_id in the body does not match the Authorization header' };
      }
      return { kind: 'credentials', clientId, ...(clientSecret ? { clientSecret } : {}) };
    } catch {
      return { kind: 'invalid', description: 'Malformed HTTP Basic credentials' };
    }
  }
  if (typeof body.client_id !== 'string' || body.client_id === '') return { kind: 'missing' };
  if (body.client_secret !== undefined && typeof body.client_secret !== 'string') {
    return { kind: 'invalid', description: 'client_secret is malformed' };
  }
  return {
    kind: 'credentials',
    clientId: body.client_id,
    ...(body.client_secret ? { clientSecret: body.client_secret as string } : {}),
  };
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

import type { PresentedClientCredentials } from 'oauth-dcr';
import { holdToClientAssertion, holdToRegisteredAuthMethod, type OAuth2ServerClient } from 'oauth-dcr/oauth2-server';
import type { ServerContext } from '../context.js';

/**
 * Client authentication for the endpoints that need it outside the token endpoint (RFC 7009
 * revocation, RFC 7662 introspection), exactly as at /token: a secret by the method the client
 * registered (RFC 7591 §2), or a JWT client assertion (private_key_jwt, RFC 7523 §2.2) verified
 * by the library, its jti used once across every instance (ref_used_client_assertions).
 *
 * Resolves the client, or null when authentication failed; throws the library's
 * InvalidClientError when the client used a method it did not register, or its assertion was
 * refused (the reason is the error's message).
 */
export async function authenticateClient(
  context: Pick<ServerContext, 'model' | 'registration'>,
  credentials: Extract<PresentedClientCredentials, { kind: 'credentials' }>,
): Promise<OAuth2ServerClient | null> {
  if (credentials.method === 'private_key_jwt') {
    return holdToClientAssertion(context.model, context.registration, credentials).getClient(
      credentials.clientId,
      undefined,
    );
  }
  return holdToRegisteredAuthMethod(context.model, credentials.method).getClient(
    credentials.clientId,
    credentials.clientSecret,
  );
}

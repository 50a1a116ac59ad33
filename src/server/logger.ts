import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The server's logger. Secrets never reach it: request lines carry the path without its query
 * (which holds state, codes and PKCE challenges), and no handler logs a token or password.
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'oauth-dcr' }, redact: ['req.headers.authorization', 'req.headers.cookie'] });
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The server's logger. Secrets never reach it: request lines carry the path without its query
 * (which holds state, codes and PKCE challenges), and no handler logs a token or password.
 */
export function createLogger(level: string): Logger {
  // Asynchronous writes: a synchronous write per log line stalls the event loop whenever stdout
  // is a slow pipe. pino flushes what is pending when the process exits.
  return pino(
    { level, base: { service: 'oauth-dcr' }, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

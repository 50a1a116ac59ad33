import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Fields that may hold a secret wherever they appear in a log line's object: headers carrying
 * credentials, and OAuth and database secrets that an error's properties may quote.
 */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.client_secret',
  '*.registration_access_token',
  '*.connectionString',
  'err.config.password',
  'err.config.connectionString',
];

/**
 * The server's logger. Secrets never reach it: request lines carry the path without its query
 * (which holds state, codes and PKCE challenges), and no handler logs a token or password.
 * `secrets` (the configured database and demo passwords) are masked in every line as written,
 * whatever field or message quotes them: a driver's error text is not ours to control.
 */
export function createLogger(level: string, secrets: readonly string[] = []): Logger {
  // Short values would mask ordinary words all over the log.
  const masked = [...new Set(secrets)]
    .filter((secret) => secret.length >= 4)
    .flatMap((secret) => {
      const jsonForm = JSON.stringify(secret).slice(1, -1);
      return jsonForm === secret ? [secret] : [secret, jsonForm];
    });
  return pino(
    {
      level,
      base: { service: 'oauth-dcr' },
      redact: { paths: REDACTED_PATHS, censor: '***' },
      ...(masked.length > 0 ? { hooks: { streamWrite: (line: string) => maskLine(line, masked) } } : {}),
    },
    // Asynchronous writes: a synchronous write per log line stalls the event loop whenever stdout
    // is a slow pipe. pino flushes what is pending when the process exits.
    pino.destination({ dest: 1, sync: false }),
  );
}

function maskLine(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

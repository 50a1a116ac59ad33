/**
 * The metrics' route label: a fixed set, never the path itself (client ids and RFC 7592 paths
 * would give every client its own time series).
 */
export function routeLabel(url: string, registrationPath: string): string {
  const path = url.split('?', 1)[0]!;
  const first = `/${path.split('/')[1] ?? ''}`;
  if (first === registrationPath) return 'register';
  if (path === '/.well-known/jwks.json') return 'jwks';
  switch (first) {
    case '/token':
    case '/authorize':
    case '/introspect':
    case '/revoke':
    case '/jwks':
    case '/admin':
      return first.slice(1);
    case '/.well-known':
      return 'metadata';
    default:
      return 'other';
  }
}

/**
 * Optional peer dependencies (better-sqlite3, pg, Kysely, @node-oauth/oauth2-server) are installed
 * by the user only for the subpath that needs them. Importing such a subpath without its peer
 * would otherwise fail with Node's "Cannot find package 'x' imported from .../dist/store/sql/..."
 * and a stack trace into our dist/; this turns it into one line saying what to install.
 *
 * A subpath entry loads its implementation (or the peer itself) through `importPeer`, with a
 * top-level await. It has to be a dynamic import: ESM links the whole static import graph before
 * any module runs, so a static import of the peer anywhere below the entry would fail before the
 * entry could catch anything.
 */

/** Thrown when a subpath's optional peer dependency is not installed. */
export class MissingPeerDependencyError extends Error {
  /** Same code as Node's own resolution failure, so code that handles that still recognises this. */
  declare readonly code: 'ERR_MODULE_NOT_FOUND';
  /** The package that could not be found. */
  declare readonly packageName: string;

  constructor(message: string, packageName: string) {
    super(message);
    this.name = 'MissingPeerDependencyError';
    // Not enumerable, and no `cause`: Node prints an uncaught error's enumerable properties and
    // its cause below the message, and the message already says all there is to say.
    Object.defineProperty(this, 'code', { value: 'ERR_MODULE_NOT_FOUND' });
    Object.defineProperty(this, 'packageName', { value: packageName });
    // The frames would only point into this package's dist/ (the importer's own line is not among
    // them: the failure happens while linking), so the stack is the message alone.
    this.stack = `${this.name}: ${message}`;
  }
}

export interface PeerDependencies {
  /** The subpath being imported, as the user wrote it: `oauth-dcr/sqlite`. */
  subpath: string;
  /** The packages whose absence is reported; any other missing module is rethrown as it is. */
  packages: readonly string[];
  /** The command that installs them: `npm install better-sqlite3@12 kysely`. */
  install: string;
}

/**
 * Runs `load` (a dynamic import of the peer, or of a module importing it statically) and, if one of
 * `peer.packages` is not installed, throws a MissingPeerDependencyError whose message is one line:
 * `oauth-dcr/sqlite needs better-sqlite3: npm install better-sqlite3@12 kysely`.
 */
export async function importPeer<Module>(load: () => Promise<Module>, peer: PeerDependencies): Promise<Module> {
  try {
    return await load();
  } catch (error) {
    const missing = missingPackage(error, peer.packages);
    if (missing === undefined) throw error;
    throw new MissingPeerDependencyError(`${peer.subpath} needs ${missing}: ${peer.install}`, missing);
  }
}

/** Which of `packages` the error says cannot be found, if any (Node's ESM resolver, or require). */
function missingPackage(error: unknown, packages: readonly string[]): string | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if ((code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') || typeof message !== 'string') return undefined;
  // "Cannot find package 'pg' imported from ..." (ESM) or "Cannot find module 'pg'" (require).
  // Quoted, so that `pg` does not match `pg-pool`, nor a file inside an installed package.
  return packages.find((name) => message.includes(`package '${name}'`) || message.includes(`module '${name}'`));
}

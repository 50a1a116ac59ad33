/**
 * The import directions of DESIGN.md ("Shape of the code"), as a check over source text.
 *
 * The library is built in floors, each using only those below it:
 *   adapters -> protocol -> cimd -> metadata -> core -> (store, net)
 * The store is the bottom floor: it imports only store/, Node built-ins and its drivers. The core
 * reaches no socket (node:dns, node:net, node:https), framework or driver. admin/ (the commands
 * of the `oauth-dcr` command line, and the `oauth-dcr/admin` subpath) stands beside adapters: it
 * may use every floor but adapters, and no package but Node's and the drivers; of the library's
 * own files only cli.ts imports it. The library never imports the reference server, and the server
 * reaches the library by package name and declared subpath only, so it compiles against the
 * public API.
 *
 * Specifiers are read with TypeScript's own pre-processor: static imports, `import type`,
 * `export ... from` and dynamic `import()`, never text inside comments.
 */
import { posix } from 'node:path';
import { builtinModules } from 'node:module';
import ts from 'typescript';

export interface SourceFile {
  /** Repository-relative, with forward slashes: `packages/oauth-dcr/src/core/request.ts`. */
  path: string;
  text: string;
}

export interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

export interface BoundaryOptions {
  /** The library's declared subpaths (its package.json `exports` keys: `.`, `./express`, ...). */
  libraryExports: readonly string[];
}

export const LIBRARY_ROOT = 'packages/oauth-dcr';
export const SERVER_ROOT = 'packages/server';
const LIBRARY_SRC = `${LIBRARY_ROOT}/src/`;
const LIBRARY_NAME = 'oauth-dcr';
const SERVER_NAME = 'oauth-dcr-server';

/** For each floor of the library, the floors it may import besides its own. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  adapters: ['protocol', 'attestation', 'cimd', 'limits', 'metadata', 'core', 'store', 'net'],
  admin: ['protocol', 'attestation', 'cimd', 'limits', 'metadata', 'core', 'store', 'net'],
  protocol: ['attestation', 'cimd', 'limits', 'metadata', 'core', 'store', 'net'],
  // Client attestation (verifying an attester's JWT and its proof of possession): a service the
  // registration and client-authentication steps call, like document resolution.
  attestation: ['core', 'store', 'net'],
  cimd: ['limits', 'metadata', 'core', 'store', 'net'],
  // Abuse controls (rate limits, caps, address lists, the forwarded client address): services the
  // protocol steps and document resolution call, built on core's resolved options.
  limits: ['core', 'store', 'net'],
  metadata: ['core', 'store', 'net'],
  core: ['store', 'net'],
  store: [],
  net: [],
};

/**
 * The optional-peer import guard (one line naming the package to install when a subpath's peer is
 * missing). The store's subpath entries need it too, so it is the one core module any floor may
 * import, on condition that it imports nothing but Node built-ins itself (checked below): then it
 * can neither close a cycle nor pull a floor in. Moving it to the bottom floor would remove this
 * exception.
 */
export const IMPORT_GUARD = `${LIBRARY_SRC}core/peer-dependency`;

/** The library's test modules the server's tests may import by path (prefixes below test/). */
const SHARED_TEST_HARNESS = ['support/', 'net/local-https'];

/** The store's own drivers: the only packages it (and admin/) may import besides Node's. */
const STORE_DRIVERS = new Set(['better-sqlite3', 'pg', 'kysely']);

/** The one entry file that may import admin/: the `oauth-dcr` command line. */
const ADMIN_ENTRY = `${LIBRARY_SRC}cli`;

/** What the core must never load: sockets and DNS, and any framework or driver. */
const CORE_FORBIDDEN_MODULES = new Set(['dns', 'net', 'https']);
const CORE_FORBIDDEN_PACKAGES = new Set([
  'express',
  '@node-oauth/oauth2-server',
  'better-sqlite3',
  'pg',
  'kysely',
  '@modelcontextprotocol/sdk',
]);

const NODE_BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith('_')));

export function importSpecifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** `node:dns/promises` and `dns/promises` -> `dns`; undefined for anything that is not Node's. */
function nodeModuleName(specifier: string): string | undefined {
  const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  const base = bare.split('/')[0] ?? bare;
  return specifier.startsWith('node:') || NODE_BUILTINS.has(base) ? base : undefined;
}

function isRelative(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..';
}

/** The floor of a library source file: its first directory under src/, or undefined for entry files (index.ts, cli.ts, ...). */
function floorOf(path: string): string | undefined {
  if (!path.startsWith(LIBRARY_SRC)) return undefined;
  const rest = path.slice(LIBRARY_SRC.length);
  const slash = rest.indexOf('/');
  return slash === -1 ? undefined : rest.slice(0, slash);
}

function checkLibraryFile(file: SourceFile, specifier: string, report: (rule: string) => void): void {
  const target = isRelative(specifier) ? posix.join(posix.dirname(file.path), specifier) : undefined;

  // The library -> the server, by name or by path.
  if (packageName(specifier) === SERVER_NAME || target?.startsWith(`${SERVER_ROOT}/`)) {
    report('the library must not import the reference server (packages/server)');
    return;
  }
  const floor = floorOf(file.path);
  if (
    floor === undefined &&
    file.path.startsWith(LIBRARY_SRC) &&
    target !== undefined &&
    floorOf(target) === 'admin' &&
    file.path.replace(/\.[cm]?[jt]s$/, '') !== ADMIN_ENTRY
  ) {
    report('only cli.ts may import admin/ (the library reaches it through the oauth-dcr/admin subpath)');
    return;
  }
  if (floor === undefined || !(floor in MAY_IMPORT)) return; // entry files and tests wire floors together

  if (file.path.replace(/\.[cm]?[jt]s$/, '') === IMPORT_GUARD && nodeModuleName(specifier) === undefined) {
    report('the import guard (core/peer-dependency.ts) may import only Node built-ins: every floor imports it');
    return;
  }
  if (target !== undefined) {
    if (!target.startsWith(LIBRARY_SRC)) {
      report(`${floor}/ must not import outside src/`);
      return;
    }
    const targetFloor = floorOf(target);
    if (targetFloor === floor || target.replace(/\.[cm]?[jt]s$/, '') === IMPORT_GUARD) return;
    if (targetFloor === undefined || !(MAY_IMPORT[floor] ?? []).includes(targetFloor)) {
      const allowed = MAY_IMPORT[floor]?.length ? MAY_IMPORT[floor]?.join(', ') : `nothing outside ${floor}/`;
      report(`${floor}/ must not import ${targetFloor ?? 'an entry file'}/ (it may import: ${allowed})`);
    }
    return;
  }

  const nodeModule = nodeModuleName(specifier);
  if (floor === 'core') {
    if (nodeModule !== undefined && CORE_FORBIDDEN_MODULES.has(nodeModule)) {
      report(`core/ must not import node:${nodeModule}: network code lives in net/`);
    } else if (CORE_FORBIDDEN_PACKAGES.has(packageName(specifier))) {
      report(
        `core/ must not import a framework or driver (${packageName(specifier)}): that belongs to an adapter or store`,
      );
    }
  }
  if (floor === 'store' && nodeModule === undefined && !STORE_DRIVERS.has(packageName(specifier))) {
    report(`store/ may import only store/, Node built-ins and its drivers (${[...STORE_DRIVERS].join(', ')})`);
  }
  if (floor === 'admin' && nodeModule === undefined && !STORE_DRIVERS.has(packageName(specifier))) {
    report(`admin/ may import no package but Node built-ins and the drivers (${[...STORE_DRIVERS].join(', ')})`);
  }
}

function checkServerFile(
  file: SourceFile,
  specifier: string,
  options: BoundaryOptions,
  report: (rule: string) => void,
): void {
  if (isRelative(specifier)) {
    const target = posix.join(posix.dirname(file.path), specifier);
    // The server's tests share the library's test harness (the services gate, the registration
    // helper, the local https server with its test CA), which is test code, not the library;
    // anything else is reached by package name.
    const sharedHarness =
      file.path.startsWith(`${SERVER_ROOT}/test/`) &&
      SHARED_TEST_HARNESS.some((shared) => target.startsWith(`${LIBRARY_ROOT}/test/${shared}`));
    if ((target === LIBRARY_ROOT || target.startsWith(`${LIBRARY_ROOT}/`)) && !sharedHarness) {
      report(`the server imports the library by package name ('${LIBRARY_NAME}'), never by relative path`);
    }
    return;
  }
  if (packageName(specifier) !== LIBRARY_NAME) return;
  const subpath = specifier === LIBRARY_NAME ? '.' : `.${specifier.slice(LIBRARY_NAME.length)}`;
  if (!options.libraryExports.includes(subpath)) {
    report(
      `'${specifier}' is not a declared export of ${LIBRARY_NAME} (declared: ${options.libraryExports.join(', ')})`,
    );
  }
}

/** Every import against the directions above, in file order. */
export function findBoundaryViolations(files: readonly SourceFile[], options: BoundaryOptions): Violation[] {
  const violations: Violation[] = [];
  for (const file of files) {
    const inLibrary = file.path.startsWith(`${LIBRARY_ROOT}/`);
    const inServer = file.path.startsWith(`${SERVER_ROOT}/`);
    if (!inLibrary && !inServer) continue;
    for (const specifier of importSpecifiers(file.text)) {
      const report = (rule: string) => violations.push({ file: file.path, specifier, rule });
      if (inLibrary) checkLibraryFile(file, specifier, report);
      else checkServerFile(file, specifier, options, report);
    }
  }
  return violations;
}

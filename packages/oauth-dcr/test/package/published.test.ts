// The library as npm would publish it: the packed tarball, checked by publint and attw (ESM-only
// is the documented choice), its declarations compiled by a consumer with skipLibCheck: false and
// none of the optional peers' types, and its subpaths imported without their peers.
//
// Everything runs against `npm pack` output, unpacked in a temporary directory outside the
// repository, so nothing resolves through the work tree's node_modules by accident.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const library = join(root, 'packages', 'oauth-dcr');
const rootRequire = createRequire(join(root, 'package.json'));

// The test runner resolves `oauth-dcr` to its sources (--conditions=oauth-dcr-source in
// NODE_OPTIONS); a consumer does not, and the sources are not in the tarball.
const { NODE_OPTIONS: _ignored, ...consumerEnv } = process.env;

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: consumerEnv, timeout: 120_000 });
}

function succeeded(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.status, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** A project in `dir` with the unpacked library and only the named packages from the work tree. */
function consumer(dir: string, packages: string[]): string {
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  succeeded(run('tar', ['xzf', tarball, '-C', join(dir, 'node_modules')], dir), 'tar');
  // npm pack's tarballs hold the files under package/.
  succeeded(run('mv', [join(dir, 'node_modules', 'package'), join(dir, 'node_modules', 'oauth-dcr')], dir), 'mv');
  // The package's own dependencies (what npm installs with it), then the peers a case asks for.
  for (const name of ['jose', 'rate-limiter-flexible', '@types/node', ...packages]) {
    // The work tree's copies (hoisted by npm workspaces); their own dependencies resolve from there.
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  }
  return dir;
}

/** The source a dist/ file is compiled from. */
function sourceOf(file: string): string {
  return join(library, 'src', file.slice('dist/'.length).replace(/\.d\.ts$|\.js$/, '.ts'));
}

/**
 * tsc never deletes an output whose source is gone, so a renamed module would be packed twice;
 * a clean build would not have it. (Only outputs of a deleted source go: nothing imports them.)
 */
function pruneOrphans(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) pruneOrphans(path);
    else if (!existsSync(sourceOf(path.slice(library.length + 1)))) rmSync(path);
  }
}

let work: string;
let tarball: string;
let packedFiles: string[];

before(() => {
  succeeded(run(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], root), 'build');
  pruneOrphans(join(library, 'dist'));
  work = mkdtempSync(join(tmpdir(), 'oauth-dcr-published-'));
  const packed = JSON.parse(
    succeeded(run('npm', ['pack', '--json', '--pack-destination', work], library), 'npm pack'),
  ) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  tarball = join(work, packed[0]!.filename);
  packedFiles = packed[0]!.files.map((file) => file.path);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('published package', () => {
  it('ships dist/, README and LICENSE, and no source maps', () => {
    for (const name of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
      assert.ok(packedFiles.includes(name), `${name} is not in the tarball`);
    }
    assert.deepEqual(
      packedFiles.filter((file) => file.endsWith('.map')),
      [],
      'source maps would point at .ts files that are not shipped',
    );
    const orphans = packedFiles.filter((file) => file.startsWith('dist/') && !existsSync(sourceOf(file)));
    assert.deepEqual(orphans, [], 'every file in dist/ is built from a source');
  });

  it('passes publint', () => {
    const publint = join(root, 'node_modules', 'publint', 'src', 'cli.js');
    succeeded(run(process.execPath, [publint, 'run', tarball, '--strict'], work), 'publint');
  });

  it('passes attw under the ESM-only profile', () => {
    const attw = join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    succeeded(
      run(process.execPath, [attw, tarball, '--profile', 'esm-only', '--format', 'table-flipped'], work),
      'attw',
    );
  });

  // A consumer compiling with skipLibCheck: false reads every declaration file it reaches; an
  // import of a package it did not install fails with TS2307 or TS7016. @node-oauth/oauth2-server
  // ships its own types and is the peer of the subpath that mentions it. (Kysely's 300 declaration
  // files would triple the time: oauth-dcr/sqlite and /postgres are compiled by
  // scripts/consumer-check.mjs, and their imports are checked below.)
  it('declarations compile with skipLibCheck: false and no @types/* of the peers', () => {
    const dir = consumer(join(work, 'types'), ['@node-oauth/oauth2-server']);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2023'],
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
        },
        include: ['index.ts'],
      }),
    );
    writeFileSync(
      join(dir, 'index.ts'),
      [
        "import { createRegistration, type ClientStore } from 'oauth-dcr';",
        "import { memoryStore } from 'oauth-dcr/memory';",
        "import { nodeRegistration } from 'oauth-dcr/node';",
        "import { expressRegistration } from 'oauth-dcr/express';",
        "import * as safeFetch from 'oauth-dcr/safe-fetch';",
        "import { oauth2ServerClients } from 'oauth-dcr/oauth2-server';",
        "import { checkStorage, maskSecrets, SettingError } from 'oauth-dcr/admin';",
        "import { createTokenVerifier, mcpClientsStore } from 'oauth-dcr/mcp';",
        'export const used = [createRegistration, memoryStore, nodeRegistration, expressRegistration, safeFetch, oauth2ServerClients];',
        'export const mcp = [createTokenVerifier, mcpClientsStore];',
        'export const admin = [checkStorage, maskSecrets, SettingError];',
        'export type Used = ClientStore;',
      ].join('\n'),
    );
    succeeded(run(process.execPath, [rootRequire.resolve('typescript/bin/tsc'), '-p', dir], dir), 'tsc');
  });

  // Which packages an entry's declarations reach, following their relative imports.
  function packagesReachedFrom(entries: string[]): string[] {
    const dist = join(library, 'dist');
    const seen = new Set<string>();
    const packages = new Set<string>();
    const queue = entries.map((entry) => join(dist, `${entry}.d.ts`));
    for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      const imports = text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|reference\s+types=)['"]([^'"]+)['"]/g);
      for (const [, specifier] of imports) {
        if (specifier!.startsWith('.')) queue.push(join(dirname(file), specifier!.replace(/\.js$/, '.d.ts')));
        else packages.add(specifier!);
      }
    }
    assert.ok(seen.size > entries.length, 'the walk followed relative imports');
    return [...packages].filter((name) => !name.startsWith('node:')).sort();
  }

  it('the main entry and oauth-dcr/memory, /node, /express, /safe-fetch, /admin, /mcp declare with jose alone', () => {
    const reached = packagesReachedFrom([
      'index',
      'store/memory',
      'adapters/node',
      'adapters/express',
      'net/safe-fetch',
      'admin/index',
      'adapters/mcp',
    ]);
    assert.deepEqual(
      reached.filter((name) => name !== 'jose'),
      [],
    );
  });

  it('oauth-dcr/sqlite and /postgres declare with Kysely, their peer, and no driver types', () => {
    for (const entry of ['store/sqlite', 'store/postgres']) {
      assert.deepEqual(
        packagesReachedFrom([entry]).filter((name) => name !== 'jose' && name !== 'kysely'),
        [],
        entry,
      );
    }
  });

  describe('a subpath whose peer is missing fails on import with one line naming it', () => {
    const cases: Array<[subpath: string, installed: string[], line: string]> = [
      ['oauth-dcr/sqlite', [], 'oauth-dcr/sqlite needs better-sqlite3: npm install better-sqlite3@12 kysely'],
      ['oauth-dcr/sqlite', ['better-sqlite3'], 'oauth-dcr/sqlite needs kysely: npm install better-sqlite3@12 kysely'],
      ['oauth-dcr/postgres', ['kysely'], 'oauth-dcr/postgres needs pg: npm install pg kysely'],
      [
        'oauth-dcr/oauth2-server',
        [],
        'oauth-dcr/oauth2-server needs @node-oauth/oauth2-server: npm install @node-oauth/oauth2-server',
      ],
      ['oauth-dcr/mcp', [], 'oauth-dcr/mcp needs @modelcontextprotocol/sdk: npm install @modelcontextprotocol/sdk'],
      ['oauth-dcr/prometheus', [], 'oauth-dcr/prometheus needs prom-client: npm install prom-client'],
    ];
    for (const [subpath, installed, line] of cases) {
      it(`${subpath}${installed.length > 0 ? ` with only ${installed.join(', ')}` : ''}`, () => {
        const dir = consumer(join(work, `peers-${subpath.replace('/', '-')}-${installed.length}`), installed);
        // Caught: the error itself is one line, stack included, with Node's own code.
        const caught = run(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            [
              `try { await import('${subpath}'); console.log('imported'); }`,
              'catch (error) { console.log(JSON.stringify({ message: error.message, stack: error.stack, code: error.code })); }',
            ].join('\n'),
          ],
          dir,
        );
        assert.deepEqual(JSON.parse(succeeded(caught, 'import')), {
          message: line,
          stack: `MissingPeerDependencyError: ${line}`,
          code: 'ERR_MODULE_NOT_FOUND',
        });
        // Uncaught: what the user sees. Node adds its own frame around the one line, nothing else.
        const uncaught = run(process.execPath, ['--input-type=module', '-e', `import '${subpath}';`], dir);
        assert.equal(uncaught.status, 1);
        assert.ok(uncaught.stderr.includes(line), uncaught.stderr);
        assert.ok(
          !/Cannot find package|\n\s+at /.test(uncaught.stderr),
          `only one line about the failure:\n${uncaught.stderr}`,
        );
      });
    }

    it('and the entries without peers import with none installed', () => {
      const dir = consumer(join(work, 'peers-none'), []);
      const result = run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          [
            "await import('oauth-dcr'); await import('oauth-dcr/memory'); await import('oauth-dcr/node');",
            "await import('oauth-dcr/express'); await import('oauth-dcr/safe-fetch'); await import('oauth-dcr/admin');",
            "console.log('ok');",
          ].join('\n'),
        ],
        dir,
      );
      assert.equal(succeeded(result, 'import').trim(), 'ok');
    });

    it('the check names only the peers: a module missing inside an installed peer is reported as it is', () => {
      // better-sqlite3 present but broken (its own dependency gone) is not "install better-sqlite3".
      const dir = consumer(join(work, 'peers-broken'), ['kysely']);
      const fake = join(dir, 'node_modules', 'better-sqlite3');
      mkdirSync(fake);
      writeFileSync(
        join(fake, 'package.json'),
        JSON.stringify({ name: 'better-sqlite3', type: 'module', exports: './index.js' }),
      );
      writeFileSync(join(fake, 'index.js'), "import 'bindings-that-is-not-there'; export default class Database {}\n");
      const result = run(process.execPath, ['--input-type=module', '-e', "import 'oauth-dcr/sqlite';"], dir);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /Cannot find package 'bindings-that-is-not-there'/);
      assert.ok(!result.stderr.includes('npm install better-sqlite3'), result.stderr);
      assert.ok(readdirSync(join(dir, 'node_modules')).includes('better-sqlite3'));
    });
  });
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  findBoundaryViolations,
  importSpecifiers,
  LIBRARY_ROOT,
  SERVER_ROOT,
  type SourceFile,
  type Violation,
} from './import-boundaries.js';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

function sourceFiles(directory: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist') continue;
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(?:ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) {
        out.push({ path: relative(repositoryRoot, full).split(sep).join('/'), text: readFileSync(full, 'utf8') });
      }
    }
  };
  walk(join(repositoryRoot, directory));
  return out;
}

const libraryExports = Object.keys(
  (
    JSON.parse(readFileSync(join(repositoryRoot, LIBRARY_ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    }
  ).exports,
);
const options = { libraryExports };

function explain(violations: Violation[]): string {
  return violations.map((v) => `${v.file}: '${v.specifier}': ${v.rule}`).join('\n');
}

describe('import boundaries (DESIGN.md, "Shape of the code")', () => {
  it('holds in the library and the server as they are', () => {
    const files = [
      ...sourceFiles(`${LIBRARY_ROOT}/src`),
      ...sourceFiles(`${LIBRARY_ROOT}/test`),
      ...sourceFiles(`${SERVER_ROOT}/src`),
      ...sourceFiles(`${SERVER_ROOT}/test`),
    ];
    assert.ok(
      files.some((f) => f.path === `${LIBRARY_ROOT}/src/core/request.ts`),
      'the walk found the library',
    );
    assert.ok(
      files.some((f) => f.path.startsWith(`${SERVER_ROOT}/src/`)),
      'the walk found the server',
    );
    const violations = findBoundaryViolations(files, options);
    assert.deepEqual(violations, [], `imports against the directions:\n${explain(violations)}`);
  });

  it('reads static, type-only, re-exported and dynamic imports, and not comments', () => {
    const text = [
      "import type { A } from './a.js';",
      "export * from '../b.js';",
      "// import x from 'commented-out';",
      "const d = await import('./d.js');",
      "export { e } from 'node:dns';",
      "import 'side-effect';",
    ].join('\n');
    assert.deepEqual(importSpecifiers(text), ['./a.js', '../b.js', './d.js', 'node:dns', 'side-effect']);
  });

  /** Each forbidden import, planted in a one-line file: the check must name every one. */
  const forbidden: Array<[title: string, path: string, line: string]> = [
    [
      'core -> protocol',
      'src/core/options.ts',
      "import { createStatementVerifier } from '../protocol/software-statement.js';",
    ],
    ['core -> adapters', 'src/core/response.ts', "import type { Registration } from '../adapters/node.js';"],
    ['core -> metadata', 'src/core/options.ts', "import { GRANT } from '../metadata/grant-types.js';"],
    ['core -> node:dns', 'src/core/request.ts', "import { lookup } from 'node:dns';"],
    ['core -> node:net', 'src/core/request.ts', "import { isIP } from 'node:net';"],
    ['core -> node:https', 'src/core/request.ts', "import { request } from 'node:https';"],
    ['core -> bare dns', 'src/core/request.ts', "import dns from 'dns';"],
    ['core -> bare net', 'src/core/request.ts', "export { isIP } from 'net';"],
    ['core -> bare https', 'src/core/request.ts', "const https = await import('https');"],
    ['core -> dns/promises', 'src/core/request.ts', "import { lookup } from 'node:dns/promises';"],
    ['core -> a framework', 'src/core/request.ts', "import type { Request } from 'express';"],
    ['store -> core', 'src/store/sqlite.ts', "import { RegistrationError } from '../core/errors.js';"],
    [
      'the import guard -> another core module',
      'src/core/peer-dependency.ts',
      "import { RegistrationError } from './errors.js';",
    ],
    ['the import guard -> a package', 'src/core/peer-dependency.ts', "import { jwtVerify } from 'jose';"],
    ['store -> protocol', 'src/store/memory.ts', "import type { Policy } from '../protocol/policy.js';"],
    ['store -> metadata', 'src/store/sql/rows.ts', "import type { FieldRule } from '../../metadata/fields.js';"],
    ['store -> net', 'src/store/memory.ts', "import { safeFetch } from '../net/safe-fetch.js';"],
    ['store -> adapters', 'src/store/memory.ts', "import '../adapters/express.js';"],
    ['store -> an entry file', 'src/store/memory.ts', "export * from '../index.js';"],
    ['store -> a package that is not its driver', 'src/store/memory.ts', "import { jwtVerify } from 'jose';"],
    ['metadata -> protocol', 'src/metadata/validate.ts', "import type { Policy } from '../protocol/policy.js';"],
    ['metadata -> adapters', 'src/metadata/fields.ts', "import { expressRegistration } from '../adapters/express.js';"],
    ['protocol -> adapters', 'src/protocol/routes.ts', "import { nodeRegistration } from '../adapters/node.js';"],
    ['net -> core', 'src/net/safe-fetch.ts', "import { RegistrationError } from '../core/errors.js';"],
    [
      'the library -> the server, by name',
      'src/adapters/express.ts',
      "import { createServer } from 'oauth-dcr-server';",
    ],
    ['the library -> the server, by subpath', 'src/index.ts', "export * from 'oauth-dcr-server/model';"],
    ['admin -> adapters', 'src/admin/commands.ts', "import { nodeRegistration } from '../adapters/node.js';"],
    ['admin -> a framework', 'src/admin/storage-checks.ts', "import express from 'express';"],
    ['admin -> the logger', 'src/admin/commands.ts', "import pino from 'pino';"],
    ['admin -> the server', 'src/admin/index.ts', "export * from 'oauth-dcr-server';"],
    ['core -> admin', 'src/core/options.ts', "import { SettingError } from '../admin/settings.js';"],
    ['protocol -> admin', 'src/protocol/routes.ts', "import { checkStorage } from '../admin/index.js';"],
    ['the main entry -> admin', 'src/index.ts', "export * from './admin/index.js';"],
    ['the library -> the server, by path', 'src/index.ts', "import { createModel } from '../../server/src/model.js';"],
    [
      'a library test -> the server',
      'test/http/register.test.ts',
      "import { createApp } from '../../../server/src/app.js';",
    ],
  ];
  for (const [title, path, line] of forbidden) {
    it(`reports ${title}`, () => {
      const file = { path: `${LIBRARY_ROOT}/${path}`, text: line };
      const violations = findBoundaryViolations([file], options);
      assert.equal(violations.length, 1, `expected one violation for ${line}, got:\n${explain(violations)}`);
      assert.equal(violations[0]?.file, file.path);
    });
  }

  const serverForbidden: Array<[title: string, path: string, line: string]> = [
    [
      'the server -> the library by relative path',
      'src/model.ts',
      "import { oauth2ServerClients } from '../../oauth-dcr/src/adapters/oauth2-server.js';",
    ],
    [
      'a server test -> the library by relative path',
      'test/http/manage.test.ts',
      "import { createRegistration } from '../../../oauth-dcr/src/index.js';",
    ],
    [
      'the server source -> the library test harness',
      'src/server.ts',
      "import { makeRegistration } from '../../oauth-dcr/test/support/registration.js';",
    ],
    [
      'a server test -> library tests outside the shared harness',
      'test/http/manage.test.ts',
      "import { send } from '../../../oauth-dcr/test/http/register.test.js';",
    ],
    [
      'the server -> a deep path into src/',
      'src/server.ts',
      "import type { Policy } from 'oauth-dcr/src/protocol/policy.js';",
    ],
    [
      'the server -> a deep path into dist/',
      'src/server.ts',
      "import { dispatch } from 'oauth-dcr/dist/protocol/routes.js';",
    ],
    ['the server -> an undeclared subpath', 'src/server.ts', "import { createPolicy } from 'oauth-dcr/policy';"],
  ];
  for (const [title, path, line] of serverForbidden) {
    it(`reports ${title}`, () => {
      const violations = findBoundaryViolations([{ path: `${SERVER_ROOT}/${path}`, text: line }], options);
      assert.equal(violations.length, 1, `expected one violation for ${line}, got:\n${explain(violations)}`);
    });
  }

  it('allows what the floors allow', () => {
    const allowed: SourceFile[] = [
      {
        path: `${LIBRARY_ROOT}/src/adapters/node.ts`,
        text: "import type { Registration } from '../protocol/create-registration.js';\nimport type { IncomingMessage } from 'node:http';",
      },
      {
        path: `${LIBRARY_ROOT}/src/protocol/register.ts`,
        text: "import { validateClientMetadata } from '../metadata/validate.js';\nimport { jsonResult } from '../core/response.js';",
      },
      {
        path: `${LIBRARY_ROOT}/src/metadata/validate.ts`,
        text: "import { invalidMetadata } from '../core/errors.js';\nimport { SafeFetchError } from '../net/safe-fetch.js';",
      },
      {
        path: `${LIBRARY_ROOT}/src/core/options.ts`,
        text: "import type { ClientStore } from '../store/types.js';\nimport type { SafeFetchOptions } from '../net/safe-fetch.js';\nimport { hash } from 'node:crypto';",
      },
      {
        path: `${LIBRARY_ROOT}/src/store/sql/sqlite-store.ts`,
        text: "import BetterSqlite3 from 'better-sqlite3';\nimport { Kysely } from 'kysely';\nimport type { ClientRecord } from '../types.js';\nimport { mkdirSync } from 'node:fs';",
      },
      {
        path: `${LIBRARY_ROOT}/src/store/postgres.ts`,
        text: "import { importPeer } from '../core/peer-dependency.js';",
      },
      { path: `${LIBRARY_ROOT}/src/core/peer-dependency.ts`, text: "import { isBuiltin } from 'node:module';" },
      {
        path: `${LIBRARY_ROOT}/src/cli.ts`,
        text: "import { runAdminCommand } from './admin/commands.js';\nimport { SettingError } from './admin/settings.js';",
      },
      {
        path: `${LIBRARY_ROOT}/src/admin/storage-checks.ts`,
        text: "import { stat } from 'node:fs/promises';\nconst pg = await import('pg');\nimport type { ClientStore } from '../store/types.js';\nimport { createRegistration } from '../protocol/create-registration.js';",
      },
      {
        path: `${SERVER_ROOT}/src/server.ts`,
        text: "import { checkStorage, SettingError } from 'oauth-dcr/admin';",
      },
      {
        path: `${LIBRARY_ROOT}/src/net/safe-fetch.ts`,
        text: "import { lookup } from 'node:dns';\nimport { connectableAddress } from './address-policy.js';",
      },
      {
        path: `${LIBRARY_ROOT}/test/unit/secrets.test.ts`,
        text: "import { hashSecret } from '../../src/core/secrets.js';",
      },
      {
        path: `${SERVER_ROOT}/test/http/manage.test.ts`,
        text: "import { makeRegistration } from '../../../oauth-dcr/test/support/registration.js';",
      },
      {
        path: `${SERVER_ROOT}/src/model.ts`,
        text: "import { oauth2ServerClients } from 'oauth-dcr/oauth2-server';\nimport { createRegistration } from 'oauth-dcr';\nimport pino from 'pino';",
      },
    ];
    const violations = findBoundaryViolations(allowed, options);
    assert.deepEqual(violations, [], explain(violations));
  });
});

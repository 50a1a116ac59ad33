import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { BrowserlessUser, authorizationUrl, pkcePair } from '../support/oauth-flow.js';

/**
 * `npm start`'s path: the oauth-dcr command line started as a process (through tsx, so no build
 * is needed), configured by environment variables, with its own SQLite file. It must print its
 * settings and a ready line, serve registration and metadata, and stop cleanly on SIGTERM.
 */
const CLI = ['--import', 'tsx', join(process.cwd(), 'src/cli.ts')];
const run = promisify(execFile);

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

interface Serving {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop(): Promise<number | null>;
}

async function serve(env: Record<string, string>): Promise<Serving> {
  const port = await freePort();
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DCR_DEMO_USER: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 20 s:\n${output}`)), 20_000);
    const check = () => {
      if (output.includes(`oauth-dcr listening on ${url}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`oauth-dcr serve exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    stop: () => new Promise((resolve) => {
      child.removeAllListeners('exit');
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    }),
  };
}

async function cli(args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, [...CLI, ...args], { env: { ...process.env, ...env } });
  return stdout;
}

describe('oauth-dcr serve (the npm start path)', () => {
  it('prints its settings and a demo user, serves registration and metadata, and stops on SIGTERM', async () => {
    const databasePath = join(dir, 'serve.db');
    const server = await serve({ DATABASE_PATH: databasePath });
    try {
      const banner = server.output();
      assert.match(banner, /DCR_ALLOWED_GRANT_TYPES\s+authorization_code,refresh_token\s+\(default\)/);
      assert.match(banner, new RegExp(`storage: SQLite ${databasePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const demo = /demo user created: username "([^"]+)", password "([^"]+)"/.exec(banner);
      assert.ok(demo, banner);

      const metadata = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>;
      assert.equal(metadata.issuer, server.url);
      assert.equal(metadata.registration_endpoint, `${server.url}/register`);

      const registered = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'CLI test', redirect_uris: ['http://127.0.0.1:1/cb'], token_endpoint_auth_method: 'none' }),
      });
      assert.equal(registered.status, 201);
      const client = await registered.json() as Record<string, string>;

      // The printed demo credentials really sign in.
      const callback = await new BrowserlessUser(demo[1], demo[2]).authorize(authorizationUrl(server.url, {
        client_id: client.client_id!,
        redirect_uri: 'http://127.0.0.1:1/cb',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }));
      assert.ok(callback.searchParams.get('code'));
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it('administers initial access tokens and lists clients against the same database', async () => {
    const env = { DATABASE_PATH: join(dir, 'admin.db') };
    assert.match(await cli(['migrate'], env), /applied migrations to SQLite .*0001_initial|is up to date/);
    const created = await cli(['iat', 'create', '--uses', '1', '--expires', '1d', '--label', 'ci runner'], env);
    const token = /shown once, keep it secret\):\n\s+(\S+)/.exec(created)?.[1];
    const id = /id: (\S+)/.exec(created)?.[1];
    assert.ok(token && id, created);

    const server = await serve({ ...env, DCR_OPEN_REGISTRATION: 'false', DCR_DEMO_USER: 'admin:s3cret-pass' });
    try {
      const register = (authorization?: string) => fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ client_name: 'Token-gated', redirect_uris: ['https://app.example/cb'] }),
      });
      assert.equal((await register()).status, 401, 'open registration is off');
      assert.equal((await register(`Bearer ${token}`)).status, 201);
      assert.equal((await register(`Bearer ${token}`)).status, 401, 'the token had one use');
    } finally {
      assert.equal(await server.stop(), 0);
    }

    assert.match(await cli(['iat', 'list'], env), new RegExp(`${id}\\s+ci runner\\s+0\\s+\\S+\\s+used up`));
    assert.match(await cli(['clients', 'list'], env), /Token-gated\s+initial_access_token/);
    assert.match(await cli(['iat', 'revoke', id!], env), new RegExp(`revoked ${id}`));
  });

  it('refuses bad settings at start with a message naming the variable', async () => {
    await assert.rejects(cli(['serve'], { DATABASE_PATH: join(dir, 'bad.db'), DCR_ALLOWED_GRANT_TYPES: 'authorization_code,password' }), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr, /DCR_ALLOWED_GRANT_TYPES: the reference server cannot run 'password'/);
      return true;
    });
  });
});

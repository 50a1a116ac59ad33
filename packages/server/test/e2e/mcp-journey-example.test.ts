/**
 * examples/mcp-server/server.mjs as `npm run example:mcp` starts it: settings from the
 * environment, the protected resource metadata and the 401 challenge on the configured URL, and a
 * bad setting reported in one line. (The library resolves to its sources here, through the test
 * runner's condition, so the child loads TypeScript through tsx.)
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const SERVER = join(process.cwd(), 'examples', 'mcp-server', 'server.mjs');
const children: ChildProcess[] = [];

function start(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number> } {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), SERVER], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return { child, output: () => output, exited };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});

describe('the example MCP server, started as npm run example:mcp starts it', () => {
  it('serves its metadata and a 401 challenge for the resource it was configured with', async () => {
    const port = await freePort();
    const resource = `http://127.0.0.1:${port}/tools/mcp`;
    const issuer = 'http://127.0.0.1:1';
    const running = start({ MCP_PORT: String(port), MCP_RESOURCE: resource, ISSUER: issuer, MCP_SCOPES: 'a b' });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready:\n${running.output()}`)), 30_000);
      running.child.stdout!.on('data', () => {
        if (running.output().includes(`MCP server: ${resource}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void running.exited.then((code) => reject(new Error(`exited with ${code}:\n${running.output()}`)));
    });

    const metadataUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/tools/mcp`;
    const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    assert.equal(metadata.resource, resource);
    assert.deepEqual(metadata.authorization_servers, [issuer]);
    assert.deepEqual(metadata.scopes_supported, ['a', 'b']);

    const refused = await fetch(resource, { method: 'POST' });
    assert.equal(refused.status, 401);
    const challenge = refused.headers.get('www-authenticate') ?? '';
    assert.ok(challenge.includes(`resource_metadata="${metadataUrl}"`), challenge);
    assert.ok(challenge.includes('scope="a b"'), challenge);
    assert.equal(refused.headers.get('x-powered-by'), null);

    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 0, 'SIGTERM stops it cleanly');
  });

  it('stops with one line naming the problem for a resource with a fragment', async () => {
    const running = start({ MCP_PORT: String(await freePort()), MCP_RESOURCE: 'http://127.0.0.1/mcp#x' });
    assert.equal(await running.exited, 1);
    assert.equal(
      running.output().trim(),
      'resource must be an absolute URL without a fragment: http://127.0.0.1/mcp#x',
    );
  });
});

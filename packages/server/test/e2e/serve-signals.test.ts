import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'packages/server/src/cli.ts')];

/**
 * A process manager sends SIGTERM whenever it likes, including while the server starts. Node's
 * default action for it is death by signal with no clean-up, so the server's own handler must be
 * in place before anything is served, and a start that hangs (a database that accepts the
 * connection and never answers) must still end when asked.
 */
describe('oauth-dcr-server serve and SIGTERM while starting', () => {
  const sockets = new Set<Socket>();
  // A "database" that accepts connections and never says a word: the start hangs on it.
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  let port = 0;
  before(async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });
  after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });

  it('exits 0 at once, not killed by the signal, when the start is stuck', async () => {
    const child = spawn(process.execPath, [...CLI, 'serve'], {
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
        DCR_DEMO_USER: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (code, signal) => resolve([code, signal])),
    );
    // Until the server has connected to the silent database, its start is under way.
    while (sockets.size === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = await exited;
    clearTimeout(timer);
    assert.deepEqual([code, signal], [0, null], output);
    assert.match(output, /SIGTERM while starting, exiting/);
  });
});

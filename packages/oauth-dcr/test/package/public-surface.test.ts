import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

/**
 * The runtime names each adapter subpath exports: what a user can import is what the README
 * documents, and the plumbing the adapters share (node-io.ts) stays internal.
 */
describe('adapter subpaths export their handler factories only', () => {
  it('oauth-dcr/node exports nodeRegistration', async () => {
    assert.deepEqual(Object.keys(await import('oauth-dcr/node')).sort(), ['nodeRegistration']);
  });
  it('oauth-dcr/express exports expressRegistration', async () => {
    assert.deepEqual(Object.keys(await import('oauth-dcr/express')).sort(), ['expressRegistration']);
  });
});

/**
 * Every hostile URL form through safeFetch itself, fetched directly and behind a redirect from an
 * allowed public host: decimal, octal, hex and short IPv4 forms, IPv4-mapped literals, trailing
 * dots, percent-encoding, userinfo tricks, names resolving into private space, a resolver that
 * rebinds between lookups. What counts is what was connected to: canaries listening on the
 * private loopback addresses, and every socket destination the process opened.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { safeFetch, SafeFetchError } from 'oauth-dcr/safe-fetch';
import { hostileMatrix, PUBLIC_STAND_IN, viaRedirect, type HostileTarget } from '../support/ssrf-targets.js';
import { installTestDns, recordConnections, startLab, type Lab, type TestDns } from '../support/ssrf-lab.js';

let lab: Lab;
let testDns: TestDns;
let connections: ReturnType<typeof recordConnections>;
let targets: HostileTarget[];

before(async () => {
  lab = await startLab();
  const matrix = hostileMatrix(lab.port);
  targets = matrix.targets;
  testDns = installTestDns(matrix.dns);
  connections = recordConnections();
  lab.respond = (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"public":true}');
});
after(async () => {
  connections?.stop();
  testDns?.uninstall();
  await lab?.close();
});

/** Production settings, except that the public stand-in is reachable and its CA trusted. */
const fetchOptions = () => ({ allowAddresses: [PUBLIC_STAND_IN], ca: lab.cert, timeoutMs: 2000 });

/** Lookups of the rebinding names since the last reset: one, or the socket looked the name up again. */
const rebindLookups = () =>
  [...testDns.lookups].filter(([name]) => name.endsWith('.rebind.test')).reduce((sum, [, n]) => sum + n, 0);

/** Socket destinations other than the public stand-in: each one is a fetch that got through. */
const strayConnections = () => connections.destinations.filter((d) => d !== `${PUBLIC_STAND_IN}:${lab.port}`);

describe('hostile URL forms through safeFetch', () => {
  it('the lab counts what it should (so the zeros below prove something)', async () => {
    const before = lab.canaryHits();
    await new Promise<void>((resolve) => {
      const socket = net.connect({ host: '127.0.0.2', port: lab.port }, () => socket.end());
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(lab.canaryHits(), before + 1, 'a canary counts a connection');
    assert.ok(connections.destinations.includes(`127.0.0.2:${lab.port}`), 'the recorder saw it');
    connections.destinations.length = 0;
    const body = (await safeFetch(`https://${PUBLIC_STAND_IN}:${lab.port}/ok`, fetchOptions())).json();
    assert.deepEqual(body, { public: true }, 'the public stand-in answers an allowed fetch');
    assert.equal(strayConnections().length, 0);
  });

  for (const redirected of [false, true]) {
    it(`refuses every target ${redirected ? 'behind a redirect from a public host' : 'fetched directly'}`, async () => {
      const problems: string[] = [];
      let throughCount = 0;
      for (const target of targets) {
        testDns.reset();
        connections.destinations.length = 0;
        lab.publicRequests.length = 0;
        const hitsBefore = lab.canaryHits();
        const direct = target.url('/doc.json');
        const url = redirected ? viaRedirect(lab.port, direct, '/doc.json') : direct;
        let outcome: string;
        let message = '';
        try {
          const response = await safeFetch(url, fetchOptions());
          outcome = `fetched ${response.url}`;
        } catch (error) {
          outcome = error instanceof SafeFetchError ? error.reason : `not a SafeFetchError: ${String(error)}`;
          message = error instanceof Error ? error.message : '';
        }
        const through = lab.canaryHits() - hitsBefore + strayConnections().length;
        throughCount += through;
        const wrong = (why: string) => problems.push(`${target.name} (${direct}): ${why}`);
        if (through > 0) wrong(`GOT THROUGH (${strayConnections().join(', ') || 'canary'})`);
        // A name's resolved address stays out of the message: it would map internal DNS for a registrant.
        if (/\.test\.?:/i.test(direct) && /127\.0\.0\.[23]|169\.254|::1\b|::ffff/.test(message)) {
          wrong(`message names the address: ${message}`);
        }
        if (target.reachesPublic) {
          // Rebinding: the one lookup answered public; the socket used that answer, never a second one.
          if (!outcome.startsWith('fetched')) wrong(`expected the public answer, got ${outcome}`);
          if (rebindLookups() !== 1) wrong(`looked up ${rebindLookups()} times`);
        } else {
          const expected = target.refusedAs ?? 'blocked_address';
          if (outcome !== expected) wrong(`expected ${expected}, got ${outcome}`);
          // Only the redirect hop itself may reach the public stand-in.
          const publicHits = lab.publicRequests.length;
          if (publicHits !== (redirected ? 1 : 0)) wrong(`${publicHits} requests reached the public stand-in`);
        }
      }
      process.stdout.write(
        `# safeFetch ${redirected ? 'via redirect' : 'direct'}: ${targets.length} targets, ${throughCount} through\n`,
      );
      assert.deepEqual(problems, []);
      assert.equal(throughCount, 0);
    });
  }
});

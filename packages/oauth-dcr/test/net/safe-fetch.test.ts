/**
 * safeFetch against a real HTTPS server on 127.0.0.1, reached through the explicit test allowances
 * (allowAddresses + ca + an injected lookup). Everything else stays as strict as in production.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  safeFetch,
  safeFetchJson,
  SafeFetchError,
  type LookupAllFunction,
  type SafeFetchErrorReason,
  type SafeFetchOptions,
} from '../../src/net/safe-fetch.js';
import { makeCertificate, startServer, type LocalServer, type TestCertificate } from './local-https.js';

const certificate = makeCertificate();
const skip = 'skip' in certificate ? certificate.skip : false;
if (skip) process.stderr.write(`skipping safe-fetch server tests: ${skip}\n`);

const JWKS = {
  keys: [
    {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    },
  ],
};

/** Names the tests use: issuer.test is on the certificate, other.test is not, internal.test is private. */
const HOSTS: Record<string, string> = {
  'issuer.test': '127.0.0.1',
  'other.test': '127.0.0.1',
  'internal.test': '10.0.0.1',
};

function countingLookup(): LookupAllFunction & { asked: string[] } {
  const asked: string[] = [];
  const lookup = (
    host: string,
    _options: unknown,
    callback: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void,
  ): void => {
    asked.push(host);
    const address = HOSTS[host];
    if (address === undefined) callback(Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
    else callback(null, [{ address, family: 4 }]);
  };
  return Object.assign(lookup, { asked });
}

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
}

/** Writes 1 KiB chunks (chunked encoding, no Content-Length) until the client goes away. */
function streamForever(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(1024, 0x20);
  const pump = (): void => {
    if (res.destroyed || req.socket.destroyed) return;
    res.write(chunk) ? setImmediate(pump) : res.once('drain', pump);
  };
  pump();
}

const serverClosedConnections: string[] = [];

function route(server: () => LocalServer) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    req.socket.once('close', () => serverClosedConnections.push(path));
    const redirect = /^\/redirect\/(\d+)$/.exec(path);
    if (redirect) {
      const left = Number(redirect[1]);
      // Relative Locations, resolved against the current URL.
      res.writeHead(302, { location: left === 0 ? '../jwks' : `${left - 1}` });
      return void res.end();
    }
    const status = /^\/status\/(\d+)$/.exec(path);
    if (status) {
      res.writeHead(Number(status[1]), { location: '/jwks' });
      return void res.end();
    }
    switch (path) {
      case '/jwks':
        return json(res, 200, JWKS, 'application/jwk-set+json');
      case '/charset':
        return json(res, 200, { ok: true }, 'Application/JSON; charset=utf-8');
      case '/headers':
        return json(res, 200, {
          method: req.method,
          headers: req.headers,
          servername: (req.socket as { servername?: string }).servername ?? null,
        });
      case '/redirect-absolute':
        res.writeHead(301, { location: `${server().origin}/jwks`, 'set-cookie': 'session=1' });
        return void res.end();
      case '/redirect-http':
        res.writeHead(302, { location: `http://127.0.0.1:${server().port}/jwks` });
        return void res.end();
      case '/redirect-loopback-neighbour':
        res.writeHead(307, { location: `https://127.0.0.2:${server().port}/jwks` });
        return void res.end();
      case '/redirect-internal':
        res.writeHead(308, { location: `https://internal.test:${server().port}/jwks` });
        return void res.end();
      case '/redirect-credentials':
        res.writeHead(302, { location: `https://user:hunter2@issuer.test:${server().port}/jwks` });
        return void res.end();
      case '/redirect-no-location':
        res.writeHead(302);
        return void res.end();
      case '/big-declared':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(200 * 1024) });
        return void res.end(Buffer.alloc(200 * 1024, 0x20));
      case '/big-chunked':
        return streamForever(req, res);
      case '/exactly-1k':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(`"${'a'.repeat(1022)}"`);
      case '/slow-headers':
        return; // never answers
      case '/slow-body':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.write('{"keys":');
      case '/html':
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end('<html></html>');
      case '/json-lookalike':
        res.writeHead(200, { 'content-type': 'application/jsonp' });
        return void res.end('{}');
      case '/no-type':
        res.writeHead(200);
        return void res.end('{}');
      case '/gzip':
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return void res.end(Buffer.from([0x1f, 0x8b]));
      case '/created':
        return json(res, 201, { ok: true });
      case '/not-found-html':
        res.writeHead(404, { 'content-type': 'text/html' });
        return void res.end('<h1>nope</h1>');
      case '/invalid-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"keys": [');
      case '/invalid-utf8':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(Buffer.from([0x22, 0xc3, 0x28, 0x22]));
      case '/bom':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ok":true}')]));
      default:
        return json(res, 404, { error: 'not_found' });
    }
  };
}

async function assertFails(promise: Promise<unknown>, reason: SafeFetchErrorReason): Promise<SafeFetchError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof SafeFetchError, `expected SafeFetchError, got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  return caught;
}

describe('safeFetch against a local HTTPS server', { skip }, () => {
  let server: LocalServer;
  let base: string; // https://issuer.test:PORT
  let options: SafeFetchOptions;

  before(async () => {
    server = await startServer(
      certificate as TestCertificate,
      route(() => server),
    );
    base = `https://issuer.test:${server.port}`;
    options = { allowAddresses: ['127.0.0.1'], ca: (certificate as TestCertificate).cert, lookup: countingLookup() };
  });
  after(() => server.close());

  describe('with the test allowances', () => {
    it('fetches and parses a JWKS', async () => {
      const response = await safeFetch(`${base}/jwks`, {
        ...options,
        accept: ['application/jwk-set+json', 'application/json'],
      });
      assert.equal(response.status, 200);
      assert.equal(response.url, `${base}/jwks`);
      assert.equal(response.contentType, 'application/jwk-set+json');
      assert.equal(response.headers.get('Content-Type'), 'application/jwk-set+json');
      assert.ok(Buffer.isBuffer(response.body));
      assert.deepEqual(response.json(), JWKS);
    });

    it('safeFetchJson returns the parsed body', async () => {
      assert.deepEqual(await safeFetchJson(`${base}/jwks`, { ...options, accept: ['application/jwk-set+json'] }), JWKS);
    });

    it('works with the IP literal too (certificate has IP:127.0.0.1)', async () => {
      assert.deepEqual(await safeFetchJson(`${server.origin}/charset`, options), { ok: true });
    });

    it('tolerates media type parameters and case', async () => {
      const response = await safeFetch(`${base}/charset`, options);
      assert.equal(response.contentType, 'application/json');
    });

    it('sends a bare GET: Accept, User-Agent, Host and SNI = the hostname, nothing else', async () => {
      const seen = (await safeFetchJson(`${base}/headers#fragment`, {
        ...options,
        accept: ['application/json', 'application/jwk-set+json'],
      })) as {
        method: string;
        headers: Record<string, string>;
        servername: string | null;
      };
      assert.equal(seen.method, 'GET');
      assert.equal(seen.servername, 'issuer.test');
      assert.equal(seen.headers.host, `issuer.test:${server.port}`);
      assert.equal(seen.headers['user-agent'], 'oauth-dcr');
      assert.equal(seen.headers.accept, 'application/json, application/jwk-set+json');
      assert.deepEqual(Object.keys(seen.headers).sort(), [
        'accept',
        'accept-encoding',
        'connection',
        'host',
        'user-agent',
      ]);
    });

    it('resolves once per hop and connects to the checked address (no second lookup to rebind)', async () => {
      let calls = 0;
      // A rebinding resolver: the first answer passes the check, later answers would be private.
      const rebinding: LookupAllFunction = (_host, _options, callback) => {
        calls += 1;
        callback(null, [{ address: calls === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 }]);
      };
      assert.deepEqual(await safeFetchJson(`${base}/charset`, { ...options, lookup: rebinding }), { ok: true });
      assert.equal(calls, 1);
    });
  });

  describe('TLS stays verified', () => {
    it('a self-signed certificate is refused without the test CA', async () => {
      const error = await assertFails(
        safeFetch(`${base}/jwks`, { allowAddresses: ['127.0.0.1'], lookup: countingLookup() }),
        'network',
      );
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    });

    it('the certificate must name the hostname, not just the pinned IP', async () => {
      const error = await assertFails(safeFetch(`https://other.test:${server.port}/jwks`, options), 'network');
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    });
  });

  describe('redirects', () => {
    it('follows up to 3 relative redirects by default, and reports the final URL', async () => {
      const lookup = countingLookup();
      const response = await safeFetch(`${base}/redirect/2`, {
        ...options,
        lookup,
        accept: ['application/jwk-set+json'],
      });
      assert.equal(response.url, `${base}/jwks`);
      assert.deepEqual(response.json(), JWKS);
      assert.equal(lookup.asked.length, 4, 'every hop is resolved and checked again');
    });

    it('refuses the 4th redirect', async () => {
      await assertFails(
        safeFetch(`${base}/redirect/3`, { ...options, accept: ['application/jwk-set+json'] }),
        'too_many_redirects',
      );
    });

    it('honours maxRedirects', async () => {
      await assertFails(safeFetch(`${base}/redirect/1`, { ...options, maxRedirects: 1 }), 'too_many_redirects');
      await assertFails(safeFetch(`${base}/redirect/0`, { ...options, maxRedirects: 0 }), 'too_many_redirects');
    });

    for (const status of [301, 302, 303, 307, 308]) {
      it(`follows ${status}`, async () => {
        const response = await safeFetch(`${base}/status/${status}`, {
          ...options,
          accept: ['application/jwk-set+json'],
        });
        assert.equal(response.url, `${base}/jwks`);
      });
    }

    for (const status of [300, 304, 305]) {
      it(`does not follow ${status}`, async () => {
        const response = await safeFetch(`${base}/status/${status}`, options);
        assert.equal(response.status, status);
        await assertFails(safeFetchJson(`${base}/status/${status}`, options), 'status');
      });
    }

    it('returns a redirect without Location as it is', async () => {
      assert.equal((await safeFetch(`${base}/redirect-no-location`, options)).status, 302);
    });

    it('does not carry cookies across a redirect', async () => {
      const before = server.requests.length;
      await safeFetch(`${base}/redirect-absolute`, { ...options, accept: ['application/jwk-set+json'] });
      const followed = server.requests.slice(before);
      assert.equal(followed.length, 2);
      assert.equal(followed[1]?.headers.cookie, undefined);
    });

    it('refuses a redirect to http:', async () => {
      const error = await assertFails(safeFetch(`${base}/redirect-http`, options), 'scheme');
      assert.match(error.message, /http:\/\/127\.0\.0\.1/);
    });

    it('refuses a redirect to a blocked address literal', async () => {
      await assertFails(safeFetch(`${base}/redirect-loopback-neighbour`, options), 'blocked_address');
    });

    it('refuses a redirect to a name resolving to a private address', async () => {
      const error = await assertFails(safeFetch(`${base}/redirect-internal`, options), 'blocked_address');
      assert.match(error.message, /internal\.test/);
    });

    it('refuses a redirect to a URL with credentials, without repeating them', async () => {
      const error = await assertFails(safeFetch(`${base}/redirect-credentials`, options), 'credentials');
      assert.doesNotMatch(error.message, /hunter2/);
    });
  });

  describe('size cap', () => {
    it('refuses a declared Content-Length above the cap before reading', async () => {
      await assertFails(safeFetch(`${base}/big-declared`, options), 'too_large');
    });

    it('aborts a chunked body once it passes the cap', async () => {
      const started = Date.now();
      await assertFails(safeFetch(`${base}/big-chunked`, { ...options, maxBytes: 8 * 1024 }), 'too_large');
      assert.ok(Date.now() - started < 2000);
      // The endless stream only stops because the client hung up.
      await waitFor(() => serverClosedConnections.includes('/big-chunked'));
    });

    it('the default cap is 100 KiB', async () => {
      await assertFails(safeFetch(`${base}/big-chunked`, options), 'too_large');
    });

    it('a body exactly at the cap is fine', async () => {
      const response = await safeFetch(`${base}/exactly-1k`, { ...options, maxBytes: 1024 });
      assert.equal(response.body.length, 1024);
    });
  });

  describe('time cap', () => {
    it('times out a server that never answers, within the cap', async () => {
      const started = Date.now();
      await assertFails(safeFetch(`${base}/slow-headers`, { ...options, timeoutMs: 300 }), 'timeout');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 1500, `took ${elapsed} ms`);
    });

    it('times out a body that never ends, within the cap', async () => {
      const started = Date.now();
      await assertFails(safeFetch(`${base}/slow-body`, { ...options, timeoutMs: 300 }), 'timeout');
      assert.ok(Date.now() - started < 1500);
      await waitFor(() => serverClosedConnections.includes('/slow-body'));
    });

    it('times out a resolver that never answers', async () => {
      const silent: LookupAllFunction = () => {};
      const started = Date.now();
      await assertFails(safeFetch(`${base}/jwks`, { ...options, lookup: silent, timeoutMs: 200 }), 'timeout');
      assert.ok(Date.now() - started < 1500);
    });
  });

  describe('content type', () => {
    for (const path of ['/html', '/json-lookalike', '/no-type']) {
      it(`refuses ${path}`, async () => {
        await assertFails(safeFetch(`${base}${path}`, options), 'content_type');
      });
    }

    it('refuses a type outside the list given for the call', async () => {
      await assertFails(safeFetch(`${base}/jwks`, { ...options, accept: ['application/json'] }), 'content_type');
    });

    it('refuses a compressed body it did not ask for', async () => {
      await assertFails(safeFetch(`${base}/gzip`, options), 'content_type');
    });

    it('a suffix pattern accepts every type with that suffix, and is not sent as Accept', async () => {
      const accept = ['application/cimd+json', 'application/json', 'application/*+json'];
      const response = await safeFetch(`${base}/jwks`, { ...options, accept });
      assert.equal(response.contentType, 'application/jwk-set+json');
      const echoed = (await safeFetchJson(`${base}/headers`, { ...options, accept })) as {
        headers: Record<string, string>;
      };
      assert.equal(echoed.headers.accept, 'application/cimd+json, application/json');
      // `application/jsonp` and `text/html` match neither the list nor the pattern.
      await assertFails(safeFetch(`${base}/json-lookalike`, { ...options, accept }), 'content_type');
      await assertFails(safeFetch(`${base}/html`, { ...options, accept }), 'content_type');
    });

    it('leaves error responses to the caller, whatever their type', async () => {
      const response = await safeFetch(`${base}/not-found-html`, options);
      assert.equal(response.status, 404);
      assert.equal(response.contentType, 'text/html');
    });
  });

  describe('a host name on the allow list', () => {
    const named = (allowAddresses: string[]): SafeFetchOptions => ({
      allowAddresses,
      ca: (certificate as TestCertificate).cert,
      lookup: countingLookup(),
    });

    it('lets that name reach what it resolves to', async () => {
      const response = await safeFetch(`${base}/jwks`, {
        ...named(['Issuer.Test']),
        accept: ['application/jwk-set+json'],
      });
      assert.equal(response.status, 200);
    });

    it('does not let another name resolving to the same address through', async () => {
      await assertFails(safeFetch(`https://other.test:${server.port}/jwks`, named(['issuer.test'])), 'blocked_address');
    });

    it('does not let the address literal through', async () => {
      await assertFails(safeFetch(`https://127.0.0.1:${server.port}/jwks`, named(['issuer.test'])), 'blocked_address');
    });

    it('refuses an entry that is neither an address, a CIDR nor a host name', async () => {
      for (const entry of ['not a host', 'a..b', '-a.example', 'http://localhost', '']) {
        await assert.rejects(safeFetch(`${base}/jwks`, named([entry])), TypeError, entry);
      }
    });
  });

  describe('safeFetchJson', () => {
    it('requires a 200', async () => {
      const notFound = await assertFails(safeFetchJson(`${base}/nothing-here`, options), 'status');
      assert.equal(notFound.status, 404);
      assert.equal((await assertFails(safeFetchJson(`${base}/created`, options), 'status')).status, 201);
    });

    it('refuses invalid JSON', async () => {
      await assertFails(safeFetchJson(`${base}/invalid-json`, options), 'invalid_json');
    });

    it('refuses invalid UTF-8', async () => {
      await assertFails(safeFetchJson(`${base}/invalid-utf8`, options), 'invalid_json');
    });

    it('skips a UTF-8 byte order mark', async () => {
      assert.deepEqual(await safeFetchJson(`${base}/bom`, options), { ok: true });
    });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

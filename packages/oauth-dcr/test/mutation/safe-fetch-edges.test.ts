/**
 * safeFetch at its edges, against a real HTTPS server on 127.0.0.1 (reached through the test
 * allowances): what it sends, when it gives up on a body, how a resolver's answers and failures
 * are read, and what each refusal says. Found unheld by mutation testing.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  type LookupAllFunction,
  SafeFetchError,
  type SafeFetchErrorReason,
  safeFetch,
  safeFetchJson,
} from 'oauth-dcr/safe-fetch';
import { type LocalServer, makeCertificate, startServer, type TestCertificate } from '../net/local-https.js';

const certificate = makeCertificate();
const skip = 'skip' in certificate ? certificate.skip : false;

const held: ServerResponse[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  if (path === '/headers') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, headers: req.headers }));
  } else if (path === '/declared-too-large') {
    // Declares more than the cap, then sends nothing: only the declared length can refuse it.
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.flushHeaders();
    held.push(res);
  } else if (path === '/exactly-16') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '16' });
    res.end('"12345678901234"');
  } else if (path === '/identity') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'IDENTITY' });
    res.end('{"ok":true}');
  } else if (path === '/multiple-choices') {
    res.writeHead(300, { 'content-type': 'text/html' });
    res.end('<p>choose</p>');
  } else if (path === '/no-type') {
    res.writeHead(200);
    res.end('{}');
  } else if (path === '/not-json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{nope');
  } else if (path === '/missing') {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{}');
  } else if (path === '/redirect') {
    res.writeHead(302, { location: '/headers' });
    res.end();
  } else if (path === '/hang') {
    held.push(res); // never answers
  } else if (path === '/gzip') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    res.end('{}');
  } else if (path === '/chunked-too-large') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(' '.repeat(8));
    setTimeout(() => res.end(' '.repeat(8)), 20);
  } else if (path === '/bad-redirect') {
    res.writeHead(302, { location: 'https://[bad/' });
    res.end();
  } else {
    res.writeHead(500);
    res.end();
  }
}

/** issuer.test resolves to the local server, as a list or, for a lookup that ignores `all`, one string. */
function lookupFor(answer: 'list' | 'string' = 'list'): LookupAllFunction & { options: unknown[] } {
  const options: unknown[] = [];
  const lookup = (_host: string, asked: unknown, callback: (e: null, a: LookupAddress[]) => void): void => {
    options.push(asked);
    if (answer === 'string') (callback as unknown as (e: null, a: string, f: number) => void)(null, '127.0.0.1', 4);
    else callback(null, [{ address: '127.0.0.1', family: 4 }]);
  };
  return Object.assign(lookup, { options });
}

async function assertRefused(
  promise: Promise<unknown>,
  reason: SafeFetchErrorReason,
  message: RegExp,
): Promise<SafeFetchError> {
  let caught: SafeFetchError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SafeFetchError, String(error));
    assert.equal(error.reason, reason, error.message);
    assert.match(error.message, message);
    caught = error;
    return true;
  });
  return caught as SafeFetchError;
}

describe('safeFetch against a local HTTPS server', { skip }, () => {
  let server: LocalServer;
  let base: string;
  const options = () => ({
    ca: (certificate as TestCertificate).cert,
    allowAddresses: ['127.0.0.1'],
    lookup: lookupFor(),
  });
  before(async () => {
    server = await startServer(certificate as TestCertificate, handle);
    base = `https://issuer.test:${server.port}`;
  });
  after(async () => {
    for (const res of held) res.destroy();
    await server.close();
  });

  it('sends a bare GET: identity encoding, its own user agent, nothing forwarded', async () => {
    const body = (await safeFetchJson(`${base}/headers`, options())) as {
      method: string;
      headers: Record<string, string>;
    };
    assert.equal(body.method, 'GET');
    assert.equal(body.headers['accept-encoding'], 'identity');
    assert.equal(body.headers['user-agent'], 'oauth-dcr');
    assert.equal(body.headers.accept, 'application/json');
    assert.equal(body.headers.cookie, undefined);
    assert.equal(body.headers.authorization, undefined);
  });

  it('asks the resolver for every address, in its order', async () => {
    const lookup = lookupFor();
    await safeFetchJson(`${base}/headers`, { ...options(), lookup });
    assert.deepEqual(lookup.options, [{ all: true, verbatim: true }]);
  });

  it('takes a resolver that answers with one address string', async () => {
    const body = await safeFetchJson(`${base}/headers`, { ...options(), lookup: lookupFor('string') });
    assert.equal((body as { method: string }).method, 'GET');
  });

  it('refuses a declared Content-Length over the cap at once, without waiting for the body', async () => {
    await assertRefused(
      safeFetch(`${base}/declared-too-large`, { ...options(), maxBytes: 100, timeoutMs: 3000 }),
      'too_large',
      /^response is larger than 100 bytes/,
    );
  });

  it('accepts a body of exactly the cap', async () => {
    const response = await safeFetch(`${base}/exactly-16`, { ...options(), maxBytes: 16 });
    assert.equal(response.body.length, 16);
  });

  it('refuses a body over a cap of 0, which is a valid cap', async () => {
    await assertRefused(
      safeFetch(`${base}/exactly-16`, { ...options(), maxBytes: 0 }),
      'too_large',
      /larger than 0 bytes/,
    );
  });

  it('accepts Content-Encoding identity in any case', async () => {
    assert.deepEqual(await safeFetchJson(`${base}/identity`, options()), { ok: true });
  });

  it('returns a non-redirect 3xx whatever its type, for the caller to judge', async () => {
    const response = await safeFetch(`${base}/multiple-choices`, options());
    assert.equal(response.status, 300);
    assert.equal(response.contentType, 'text/html');
  });

  it('says what it expected and what came', async () => {
    await assertRefused(
      safeFetch(`${base}/no-type`, options()),
      'content_type',
      /^expected application\/json, got no content type/,
    );
    await assertRefused(
      safeFetch(`${base}/headers`, { ...options(), accept: ['application/jwk-set+json', 'application/jwt'] }),
      'content_type',
      /^expected application\/jwk-set\+json or application\/jwt, got application\/json/,
    );
  });

  it('reports a body that is not JSON, with the parser’s error as the cause', async () => {
    const error = await assertRefused(safeFetchJson(`${base}/not-json`, options()), 'invalid_json', /not valid JSON/);
    assert.ok(error.cause instanceof Error);
  });

  it('names the status that is not 200', async () => {
    await assertRefused(safeFetchJson(`${base}/missing`, options()), 'status', /expected status 200, got 404/);
  });

  it('counts redirects', async () => {
    await assertRefused(
      safeFetch(`${base}/redirect`, { ...options(), maxRedirects: 0 }),
      'too_many_redirects',
      /more than 0 redirects/,
    );
  });

  it('gives up on a server that never answers, when the time is up', async () => {
    await assertRefused(
      safeFetch(`${base}/hang`, { ...options(), timeoutMs: 300 }),
      'timeout',
      /^no complete response within 300 ms: /,
    );
  });

  it('refuses a compressed body it did not ask for', async () => {
    await assertRefused(safeFetch(`${base}/gzip`, options()), 'content_type', /^unexpected content-encoding gzip: /);
  });

  it('stops reading a chunked body at the cap', async () => {
    await assertRefused(
      safeFetch(`${base}/chunked-too-large`, { ...options(), maxBytes: 10 }),
      'too_large',
      /^response is larger than 10 bytes: /,
    );
  });

  it('refuses a redirect to a URL that does not parse', async () => {
    await assertRefused(safeFetch(`${base}/bad-redirect`, options()), 'invalid_url', /not an absolute URL/);
  });

  it('names the network error by its code', async () => {
    const closed = await startServer(certificate as TestCertificate, handle);
    await closed.close();
    await assertRefused(
      safeFetch(`https://issuer.test:${closed.port}/`, options()),
      'network',
      /request failed \(ECONNREFUSED\)/,
    );
  });
});

describe('safeFetch and its resolver', () => {
  it('gives up on a resolver that never answers when the time is up', async () => {
    const silent: LookupAllFunction = () => {};
    const started = Date.now();
    await assertRefused(
      safeFetch('https://slow.example/', { lookup: silent, timeoutMs: 200 }),
      'timeout',
      /no complete response within 200 ms/,
    );
    assert.ok(Date.now() - started < 2000);
  });

  it('reports a resolver failure by its code, with the failure as the cause', async () => {
    const failure = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' });
    const failing: LookupAllFunction = (_host, _options, callback) => callback(failure, []);
    const error = await assertRefused(
      safeFetch('https://nowhere.example/', { lookup: failing }),
      'dns',
      /cannot resolve the host \(ENOTFOUND\)/,
    );
    assert.equal(error.cause, failure);
  });

  it('reports a resolver that throws as a resolver failure', async () => {
    const throwing: LookupAllFunction = () => {
      throw Object.assign(new Error('resolver broke'), { code: 'EAI_FAIL' });
    };
    await assertRefused(
      safeFetch('https://broken.example/', { lookup: throwing }),
      'dns',
      /cannot resolve the host \(EAI_FAIL\)/,
    );
  });

  it('says so when the resolver answers nothing, or a blocked address', async () => {
    const empty: LookupAllFunction = (_host, _options, callback) => callback(null, []);
    await assertRefused(safeFetch('https://empty.example/', { lookup: empty }), 'dns', /the host has no addresses/);
    const internal: LookupAllFunction = (_host, _options, callback) =>
      callback(null, [{ address: '10.0.0.1', family: 4 }]);
    await assertRefused(
      safeFetch('https://internal.example/', { lookup: internal }),
      'blocked_address',
      /the host resolves to a non-public address/,
    );
  });
});

describe('safeFetch refusals say why', () => {
  const cases: Array<[string, SafeFetchErrorReason, RegExp]> = [
    ['http://example.com/', 'scheme', /only https URLs may be fetched/],
    ['https://user:pw@example.com/', 'credentials', /URLs with credentials may not be fetched/],
    ['not a url', 'invalid_url', /not an absolute URL/],
  ];
  for (const [url, reason, message] of cases) {
    it(`${url}: ${reason}`, async () => {
      await assertRefused(safeFetch(url), reason, message);
    });
  }

  it('rejects nonsensical settings with a TypeError naming the setting', async () => {
    const url = 'https://example.com/';
    await assert.rejects(
      safeFetch(url, { maxRedirects: -1 }),
      /^TypeError: safeFetch: maxRedirects must be an integer >= 0$/,
    );
    await assert.rejects(safeFetch(url, { maxBytes: -1 }), /^TypeError: safeFetch: maxBytes must be an integer >= 0$/);
    await assert.rejects(safeFetch(url, { timeoutMs: -5 }), /^TypeError: safeFetch: timeoutMs must be > 0$/);
  });
});

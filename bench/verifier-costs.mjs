// What one access token costs an MCP server to verify, in process (no HTTP): oauth-dcr/mcp's
// createTokenVerifier on RFC 9068 ES256 JWTs (the reference server's default), with the keys
// served from a local jwks_uri (--alg for another algorithm); and, for scale, what the reference server pays to sign one with
// jose. Best of 5 rounds; a diagnostic beside bench/token-flows.mjs, not a target.
//
//   node bench/verifier-costs.mjs [--tokens 3000] [--alg ES256|EdDSA|RS256|PS256]
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createTokenVerifier } from 'oauth-dcr/mcp';

const { values } = parseArgs({
  options: { tokens: { type: 'string', default: '3000' }, alg: { type: 'string', default: 'ES256' } },
});
const count = Number(values.tokens);
const alg = values.alg;
const issuer = 'http://127.0.0.1:1';
const resource = 'http://127.0.0.1:2/mcp';

const { publicKey, privateKey } = await generateKeyPair(alg);
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg, use: 'sig' };
const jwks = createServer((_req, res) =>
  res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })),
);
await new Promise((resolve) => jwks.listen(0, '127.0.0.1', resolve));
const verifier = createTokenVerifier({ issuer, resource, jwksUri: `http://127.0.0.1:${jwks.address().port}/jwks` });

const mint = () =>
  new SignJWT({ client_id: 'bench-client', scope: 'mcp:tools' })
    .setProtectedHeader({ alg, kid: 'bench', typ: 'at+jwt' })
    .setIssuer(issuer)
    .setAudience(resource)
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('1h')
    .setJti(randomUUID())
    .sign(privateKey);

/** Microseconds of CPU and of wall time per call of `work(i)`, best of 5 rounds of `n` calls in sequence. */
async function cost(n, work) {
  let best = { cpu: Number.POSITIVE_INFINITY, wall: Number.POSITIVE_INFINITY };
  for (let round = 0; round < 5; round++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await work(i);
    const wall = ((performance.now() - t0) * 1000) / n;
    const used = process.cpuUsage(cpu0);
    best = { cpu: Math.min(best.cpu, (used.user + used.system) / n), wall: Math.min(best.wall, wall) };
  }
  return best;
}

const reused = await mint();
await verifier.verifyAccessToken(reused); // the key fetch, once
const fresh = await Promise.all(Array.from({ length: count * 5 }, mint));
const signing = await cost(count, mint);
const again = await cost(count, () => verifier.verifyAccessToken(reused));
let next = 0;
const firstSeen = await cost(count, () => verifier.verifyAccessToken(fresh[next++]));
jwks.close();

const line = (label, c) => `${label}: ${c.cpu.toFixed(1)} us CPU, ${c.wall.toFixed(1)} us wall per token`;
console.log(`node ${process.version}, jose ${alg}, ${count} tokens per round, best of 5`);
console.log(line('  sign (reference server, per access token)', signing));
console.log(line('  verify a reused token (createTokenVerifier)', again));
console.log(line('  verify a first-seen token', firstSeen));

// The yardstick: a bare node:http server doing the least work each endpoint must do, with no
// framework, no validation and no durability. Every ratio `npm run bench` prints is "reference
// server req/s / this server's req/s" at the same connection count, measured in the same run.
//
//   node bench/baseline.mjs            (PORT, HOST from the environment; prints a ready line)
//
// Endpoints, each the bare equivalent of the reference server's:
//   POST /register          read body, JSON.parse, randomUUID + 32-byte random secret(s), Map.set, 201 JSON
//   GET  /register/{id}     Map lookup, SHA-256 of the bearer token vs the stored hash, 200 JSON
//   POST /token             form body + Basic header, Map lookup, SHA-256 compare, random access token into a Map, 200 JSON
//   GET  /.well-known/oauth-authorization-server   so the runner discovers both servers the same way
import { createServer } from 'node:http';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const clients = new Map();
const accessTokens = new Map();

const sha256 = (value) => createHash('sha256').update(value, 'utf8').digest();
const secret = () => randomBytes(32).toString('base64url');
const sameHash = (presented, stored) => stored !== undefined && timingSafeEqual(sha256(presented), stored);

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(json),
    'Cache-Control': 'no-store',
  });
  res.end(json);
}

function readBody(req, done) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}

function register(req, res, origin) {
  readBody(req, (text) => {
    let metadata;
    try {
      metadata = JSON.parse(text);
    } catch {
      return send(res, 400, { error: 'invalid_client_metadata' });
    }
    const clientId = randomUUID();
    // One random secret is the registration access token; a confidential client gets a second.
    const registrationAccessToken = secret();
    const clientSecret = metadata.token_endpoint_auth_method === 'none' ? undefined : secret();
    clients.set(clientId, {
      metadata,
      registrationAccessTokenHash: sha256(registrationAccessToken),
      clientSecretHash: clientSecret === undefined ? undefined : sha256(clientSecret),
    });
    const issued = { client_id: clientId, client_id_issued_at: Math.floor(Date.now() / 1000) };
    if (clientSecret !== undefined) Object.assign(issued, { client_secret: clientSecret, client_secret_expires_at: 0 });
    send(res, 201, {
      ...issued,
      ...metadata,
      registration_access_token: registrationAccessToken,
      registration_client_uri: `${origin}/register/${clientId}`,
    });
  });
}

function readClient(req, res, clientId) {
  const header = req.headers.authorization ?? '';
  const client = clients.get(clientId);
  if (!header.startsWith('Bearer ') || !client || !sameHash(header.slice(7), client.registrationAccessTokenHash)) {
    return send(res, 401, { error: 'invalid_token' });
  }
  send(res, 200, { client_id: clientId, ...client.metadata });
}

function token(req, res) {
  readBody(req, (text) => {
    const form = new URLSearchParams(text);
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return send(res, 401, { error: 'invalid_client' });
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const clientId = decodeURIComponent(decoded.slice(0, colon));
    const client = clients.get(clientId);
    if (colon < 0 || !client || !sameHash(decodeURIComponent(decoded.slice(colon + 1)), client.clientSecretHash)) {
      return send(res, 401, { error: 'invalid_client' });
    }
    if (form.get('grant_type') !== 'client_credentials') return send(res, 400, { error: 'unsupported_grant_type' });
    const accessToken = secret();
    accessTokens.set(accessToken, { clientId, expiresAt: Date.now() + 3600_000 });
    send(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 });
  });
}

const server = createServer((req, res) => {
  const origin = `http://${req.headers.host}`;
  const path = req.url ?? '/';
  if (req.method === 'POST' && (path === '/register' || path === '/register/')) return register(req, res, origin);
  if (req.method === 'GET' && path.startsWith('/register/'))
    return readClient(req, res, path.slice('/register/'.length));
  if (req.method === 'POST' && path === '/token') return token(req, res);
  if (req.method === 'GET' && path === '/.well-known/oauth-authorization-server') {
    return send(res, 200, {
      issuer: origin,
      registration_endpoint: `${origin}/register`,
      token_endpoint: `${origin}/token`,
    });
  }
  req.resume();
  send(res, 404, { error: 'not_found' });
});

server.listen(port, host, () => {
  const address = server.address();
  console.log(`baseline listening on http://${host}:${address.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

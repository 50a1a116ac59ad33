// Loads N clients straight into a migrated store's tables, for bench/scale.mjs: batched inserts
// through the store's own schema, not HTTP (a million registrations over HTTP would take longer
// than the rest of the benchmark). Rows look like real registrations: an MCP client's metadata,
// SHA-256 secret and registration-token hashes as the library stores them, and one
// `client.registered` audit event each. They are what a server under the default lifecycle rules
// holds in steady state, so that its reaper and audit retention have nothing to do while it is
// measured: 97% registered over the last 85 days and used within the last 60, 3% registered in
// the last 20 hours and not used yet.
//
// Ids, secrets and registration tokens are derived from the row number, so the benchmark can
// address any client of the million without keeping a list: clientIdOf(i), secretOf(i), tokenOf(i).
import { createHash } from 'node:crypto';

const DAY = 86_400;
const CHUNK_SQLITE = 20_000;
const CHUNK_POSTGRES = 5_000;

function digest(text) {
  return createHash('sha256').update(text).digest();
}

/** A random-looking UUIDv4 for row `i` (registration draws randomUUID(); this is as scattered). */
export function clientIdOf(i) {
  const hex = digest(`scale-client-${i}`).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
export const secretOf = (i) => digest(`scale-secret-${i}`).toString('base64url');
export const tokenOf = (i) => digest(`scale-token-${i}`).toString('base64url');
/** As the library's hashSecret: SHA-256, hex. */
const hashOf = (value) => createHash('sha256').update(value).digest('hex');
/** Even rows are confidential clients (client_secret_post), odd rows public (none). */
export const isConfidential = (i) => i % 2 === 0;

function clientRow(i, now) {
  const confidential = isConfidential(i);
  const fresh = i % 100 < 3;
  const createdAt = fresh ? now - (i % 72_000) : now - (i % 85) * DAY - (i % 86_399);
  const lastUsedAt = fresh ? null : Math.max(createdAt, now - (i % 60) * DAY - (i % 3600));
  const metadata = {
    client_name: `MCP Client ${i}`,
    client_uri: 'https://client.example.com',
    redirect_uris: [`http://127.0.0.1:${30000 + (i % 30000)}/callback`, 'https://client.example.com/oauth/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: confidential ? 'client_secret_post' : 'none',
    scope: 'openid profile',
    application_type: 'native',
  };
  return {
    client_id: clientIdOf(i),
    metadata: JSON.stringify(metadata),
    client_id_issued_at: createdAt,
    client_secret_hash: confidential ? hashOf(secretOf(i)) : null,
    client_secret_expires_at: 0,
    registration_access_token_hash: hashOf(tokenOf(i)),
    registered_via: 'anonymous',
    created_at: createdAt,
    updated_at: createdAt,
    last_used_at: lastUsedAt,
  };
}

function auditRow(row, i) {
  return {
    type: 'client.registered',
    at: row.created_at,
    client_id: row.client_id,
    actor: 'anonymous',
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    detail: JSON.stringify({
      via: 'anonymous',
      client_name: JSON.parse(row.metadata).client_name,
      redirect_uris: JSON.parse(row.metadata).redirect_uris,
    }),
  };
}

const CLIENT_COLUMNS = [
  'client_id',
  'metadata',
  'client_id_issued_at',
  'client_secret_hash',
  'client_secret_expires_at',
  'registration_access_token_hash',
  'registered_via',
  'created_at',
  'updated_at',
  'last_used_at',
];
const AUDIT_COLUMNS = ['type', 'at', 'client_id', 'actor', 'ip', 'detail'];

/** Inserts clients [from, to) into a migrated SQLite file through a better-sqlite3 connection of its own. */
export function loadSqlite(Database, path, from, to, now) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Bench set-up only: the load is not what is measured, and a crash just means loading again.
  db.pragma('synchronous = OFF');
  const insertClient = db.prepare(
    `insert into dcr_clients (${CLIENT_COLUMNS.join(', ')}) values (${CLIENT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  const insertEvent = db.prepare(
    `insert into dcr_audit_events (${AUDIT_COLUMNS.join(', ')}) values (${AUDIT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  const chunk = db.transaction((start, end) => {
    for (let i = start; i < end; i++) {
      const row = clientRow(i, now);
      insertClient.run(row);
      insertEvent.run(auditRow(row, i));
    }
  });
  for (let start = from; start < to; start += CHUNK_SQLITE) chunk(start, Math.min(to, start + CHUNK_SQLITE));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('analyze');
  db.close();
}

/** Inserts clients [from, to) into a migrated PostgreSQL schema: one multi-row insert per chunk, through unnest. */
export async function loadPostgres(pool, schema, from, to, now) {
  const clientTypes = ['text', 'text', 'bigint', 'text', 'bigint', 'text', 'text', 'bigint', 'bigint', 'bigint'];
  const auditTypes = ['text', 'bigint', 'text', 'text', 'text', 'text'];
  const unnest = (types) => types.map((type, n) => `$${n + 1}::${type}[]`).join(', ');
  const clientSql = `insert into "${schema}".dcr_clients (${CLIENT_COLUMNS.join(', ')}) select * from unnest(${unnest(clientTypes)})`;
  const auditSql = `insert into "${schema}".dcr_audit_events (${AUDIT_COLUMNS.join(', ')}) select * from unnest(${unnest(auditTypes)})`;
  for (let start = from; start < to; start += CHUNK_POSTGRES) {
    const end = Math.min(to, start + CHUNK_POSTGRES);
    const clients = CLIENT_COLUMNS.map(() => []);
    const events = AUDIT_COLUMNS.map(() => []);
    for (let i = start; i < end; i++) {
      const row = clientRow(i, now);
      for (const [n, column] of CLIENT_COLUMNS.entries()) clients[n].push(row[column]);
      const event = auditRow(row, i);
      for (const [n, column] of AUDIT_COLUMNS.entries()) events[n].push(event[column]);
    }
    await pool.query(clientSql, clients);
    await pool.query(auditSql, events);
  }
  await pool.query(`analyze "${schema}".dcr_clients`);
  await pool.query(`analyze "${schema}".dcr_audit_events`);
}

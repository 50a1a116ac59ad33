import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import type { IssuedSecret } from './secret-journey.js';
import type { ServerData } from './server-process.js';

/**
 * Everything a server leaves behind that an attacker with a copy could read (its database files
 * or a dump, its logs, its audit trail), searched for issued secrets byte for byte, in the
 * encodings a careless store or log line would use.
 */

export interface RawSource {
  name: string;
  bytes: Buffer;
}

export interface Sighting {
  secret: string;
  form: string;
  source: string;
}

/** The byte strings under which `secret` would be recognisable. */
export function encodedForms(secret: string): Array<{ form: string; bytes: Buffer }> {
  const utf8 = Buffer.from(secret, 'utf8');
  const forms = [
    { form: 'plaintext', bytes: utf8 },
    { form: 'base64', bytes: Buffer.from(utf8.toString('base64').replace(/=+$/, '')) },
    { form: 'base64url', bytes: Buffer.from(utf8.toString('base64url')) },
    { form: 'hex', bytes: Buffer.from(utf8.toString('hex')) },
    { form: 'HEX', bytes: Buffer.from(utf8.toString('hex').toUpperCase()) },
    { form: 'UTF-16LE', bytes: Buffer.from(secret, 'utf16le') },
    { form: 'URL-encoded', bytes: Buffer.from(encodeURIComponent(secret)) },
  ];
  // A base64url secret (every token this server issues) may be stored as the bytes it encodes.
  if (/^[A-Za-z0-9_-]{22,}$/.test(secret)) {
    const decoded = Buffer.from(secret, 'base64url');
    forms.push(
      { form: 'decoded bytes', bytes: decoded },
      { form: 'decoded bytes as hex', bytes: Buffer.from(decoded.toString('hex')) },
      { form: 'decoded bytes as base64', bytes: Buffer.from(decoded.toString('base64').replace(/=+$/, '')) },
    );
  }
  // A JWT's header and payload are readable by design; its signature is what makes it a credential.
  const jwt = secret.split('.');
  if (jwt.length === 3 && jwt[2]!.length >= 22) forms.push({ form: 'JWT signature', bytes: Buffer.from(jwt[2]!) });
  // One entry per distinct byte string (a base64url token is its own URL-encoded form).
  return forms.filter((entry, index) => forms.findIndex((other) => other.bytes.equals(entry.bytes)) === index);
}

export function findSecrets(sources: RawSource[], secrets: IssuedSecret[]): Sighting[] {
  const sightings: Sighting[] = [];
  for (const { label, value } of secrets)
    for (const { form, bytes } of encodedForms(value))
      for (const source of sources)
        if (source.bytes.includes(bytes)) sightings.push({ secret: label, form, source: source.name });
  return sightings;
}

/** The SQLite file and, when present, its write-ahead log and shared-memory index. */
export async function sqliteFiles(path: string): Promise<RawSource[]> {
  const sources: RawSource[] = [];
  for (const suffix of ['', '-wal', '-shm', '-journal'])
    if (existsSync(path + suffix))
      sources.push({ name: `SQLite ${suffix || 'file'}`, bytes: await readFile(path + suffix) });
  return sources;
}

/**
 * The PostgreSQL schema: pg_dump's plain dump when pg_dump is installed, and in every case each
 * row of each table of the schema as JSON text (bytea shown as hex).
 */
export async function postgresDump(data: ServerData): Promise<RawSource[]> {
  const { url, schema } = data.postgres!;
  const sources: RawSource[] = [];
  try {
    const { stdout } = await promisify(execFile)('pg_dump', ['--dbname', url, '--schema', schema], {
      maxBuffer: 256 << 20,
    });
    sources.push({ name: 'pg_dump', bytes: Buffer.from(stdout) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1 order by table_name',
      [schema],
    );
    const rows: string[] = [];
    for (const { table_name } of tables.rows) {
      const result = await client.query<{ row: string }>(
        `select row_to_json(t)::text as row from "${schema}"."${table_name}" t`,
      );
      for (const { row } of result.rows) rows.push(`${table_name} ${row}`);
    }
    sources.push({ name: 'PostgreSQL rows', bytes: Buffer.from(rows.join('\n')) });
  } finally {
    await client.end();
  }
  return sources;
}

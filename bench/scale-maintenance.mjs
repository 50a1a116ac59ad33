// Maintenance at scale, for bench/scale.mjs: bytes per client on disk, the prune commands, and
// migration 0004 (the client-lifecycle columns and indexes) re-run on the full table.
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Bytes per client: the SQLite file (after a checkpoint), or PostgreSQL's tables with their indexes and TOAST. */
export async function diskBytes(target, size) {
  if (target.kind === 'sqlite') {
    const wal = `${target.path}-wal`;
    const bytes = statSync(target.path).size + (existsSync(wal) ? statSync(wal).size : 0);
    return [
      `sqlite: ${(bytes / 2 ** 20).toFixed(0)} MiB on disk for ${size.toLocaleString('en-US')} clients and their audit events: ${Math.round(bytes / size)} bytes per client`,
    ];
  }
  const { rows } = await target.pool.query(
    `select pg_total_relation_size($1::regclass)::bigint as clients, pg_total_relation_size($2::regclass)::bigint as events`,
    [`"${target.schema}".dcr_clients`, `"${target.schema}".dcr_audit_events`],
  );
  const clients = Number(rows[0].clients);
  const events = Number(rows[0].events);
  return [
    `postgres: dcr_clients ${(clients / 2 ** 20).toFixed(0)} MiB (${Math.round(clients / size)} bytes per client, indexes included), dcr_audit_events ${(events / 2 ** 20).toFixed(0)} MiB (${Math.round(events / size)} bytes per client)`,
  ];
}

function runCli(root, args, env) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(root, 'packages', 'oauth-dcr', 'bin', 'oauth-dcr.js'), ...args],
      { env: { ...process.env, ...env }, timeout: 30 * 60 * 1000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`oauth-dcr ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve({ seconds: (performance.now() - started) / 1000, stdout: stdout.trim() });
      },
    );
  });
}

/**
 * `oauth-dcr prune --audit --retention 81d` and `oauth-dcr prune --idle --unused 57d --never-used
 * off`, as an operator runs them from cron: each finds about 5% of the table (see scale-load.mjs).
 */
export async function timePrune(target, { root, databaseUrl }) {
  const env =
    target.kind === 'sqlite'
      ? { DATABASE_PATH: target.path }
      : { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: target.schema };
  const lines = [];
  const audit = await runCli(root, ['prune', '--audit', '--retention', '81d'], env);
  lines.push(
    `${target.kind}: \`oauth-dcr prune --audit --retention 81d\`: ${audit.seconds.toFixed(1)} s (${lastLine(audit.stdout)})`,
  );
  const idle = await runCli(root, ['prune', '--idle', '--unused', '57d', '--never-used', 'off'], env);
  lines.push(
    `${target.kind}: \`oauth-dcr prune --idle --unused 57d --never-used off\`: ${idle.seconds.toFixed(1)} s (${lastLine(idle.stdout)})`,
  );
  return lines;
}

function lastLine(text) {
  return text.split('\n').filter(Boolean).slice(-1)[0] ?? '';
}

const UNDO_0004_SQLITE = [
  'drop trigger dcr_clients_insert_tier_counted',
  'drop trigger dcr_clients_delete_tier_counted',
  'drop trigger dcr_clients_update_tier_counted',
  'drop table dcr_client_counts',
  'drop index dcr_clients_idle',
  'drop index dcr_clients_fingerprint',
  'drop index dcr_audit_events_at',
  'alter table dcr_clients drop column disabled_at',
  'alter table dcr_clients drop column registration_fingerprint',
  'alter table dcr_clients drop column granted_rights',
  `delete from dcr_migrations where name = '0004_client_lifecycle'`,
];

/**
 * Takes migration 0004 back out of the loaded database, then times the store bringing it up to
 * date again on open. On PostgreSQL a writer inserts a client every 5 ms meanwhile: its slowest
 * insert is how long CREATE INDEX held writes off. (On SQLite a migration holds the file's write
 * lock throughout: writers wait for all of it.)
 */
export async function timeMigration(target, { openStore, databaseUrl, clientIdOf }) {
  if (target.kind === 'sqlite') {
    const require = createRequire(import.meta.url);
    const Database = require('better-sqlite3');
    const db = new Database(target.path);
    for (const statement of UNDO_0004_SQLITE) db.exec(statement);
    db.close();
    const started = performance.now();
    const store = await openStore(target);
    const seconds = (performance.now() - started) / 1000;
    await store.close();
    return [
      `sqlite: migration 0004 (3 columns, 3 indexes, tier counts) on the full table: ${seconds.toFixed(1)} s, the write lock held throughout`,
    ];
  }
  const s = `"${target.schema}"`;
  await target.pool.query(
    `drop index ${s}.dcr_clients_idle; drop index ${s}.dcr_clients_fingerprint; drop index ${s}.dcr_audit_events_at;
     alter table ${s}.dcr_clients drop column disabled_at, drop column registration_fingerprint, drop column granted_rights;
     delete from ${s}.dcr_migrations where name = '0004_client_lifecycle'`,
  );
  const require = createRequire(import.meta.url);
  const pg = require('pg');
  const writer = new pg.Client({ connectionString: databaseUrl });
  await writer.connect();
  let writing = true;
  let slowest = 0;
  let inserts = 0;
  const writes = (async () => {
    while (writing) {
      const started = performance.now();
      const now = Math.floor(Date.now() / 1000);
      await writer.query(
        `insert into ${s}.dcr_clients (client_id, metadata, client_id_issued_at, client_secret_expires_at, registered_via, created_at, updated_at) values ($1, '{}', $2, 0, 'anonymous', $2, $2)`,
        [clientIdOf(`migration-${inserts++}`), now],
      );
      slowest = Math.max(slowest, performance.now() - started);
      await sleep(5);
    }
  })();
  await sleep(200);
  const started = performance.now();
  const store = await openStore(target);
  const seconds = (performance.now() - started) / 1000;
  writing = false;
  await writes;
  await writer.end();
  await store.close();
  return [
    `postgres: migration 0004 on the full table: ${seconds.toFixed(1)} s; a concurrent writer's slowest insert meanwhile: ${(slowest / 1000).toFixed(2)} s (${inserts} inserts)`,
  ];
}

import { runAuditCommand } from './audit-command.js';
import { runClientCommand } from './client-commands.js';
import { type AdminCommandInput, UsageError } from './command-input.js';
import { runInitialAccessTokenCommand } from './iat-commands.js';
import { openAdminStore } from './open-store.js';
import { runPruneCommand } from './prune-command.js';
import { runValidateCommand } from './validate-command.js';
import { loadAdminStorage } from './settings.js';

/**
 * The `oauth-dcr` admin commands, on the library's store alone: they read and change oauth-dcr's
 * own tables, never create anyone else's, and never run a server (that is the reference server's
 * `oauth-dcr-server serve`). src/cli.ts only parses the command line; each command group is in its
 * own file here, writing through `Output`, so it can be tested without a terminal.
 */
export {
  type AdminCommandInput,
  type AdminFlags,
  CommandFailure,
  type Output,
  UsageError,
} from './command-input.js';

export const USAGE = `Usage: oauth-dcr <command> [options]

Administers oauth-dcr's store (its dcr_* tables only) in SQLite or PostgreSQL.

Commands:
  migrate                     create or migrate oauth-dcr's tables at DATABASE_PATH or DATABASE_URL
  iat create [--uses N] [--expires 7d] [--label text]
                              create an initial access token (printed once)
  iat list                    list initial access tokens
  iat revoke <id>             revoke an initial access token
  clients list                list registered clients (tier, last use, disabled)
  clients show <id> [--json]  one client: tier, who registered it, times, rights, metadata (never secrets)
  clients create --name N --redirect-uri U [--redirect-uri U ...] [--grant-type G ...]
                 [--auth-method M] [--scope S] [--right introspection[=uri|uri]] [--json]
                              create an operator-admitted client (tier admin); its secret is printed once
  clients disable <id>        the client resolves to nothing until enabled again
  clients enable <id>
  clients delete <id>
                              disable and delete change oauth-dcr's tables only: a host keeping tokens
                              elsewhere (the reference server) refuses the client's codes and tokens
                              when they are used; the running server also revokes them when it acts itself
  audit [--client ID] [--type T] [--since 24h] [--limit N] [--json]
                              the persisted audit trail, oldest first (--json: one object per line)
  prune --idle [--dry-run] [--batch N] [--never-used tier=24h,...] [--unused tier=90d,...]
                              reap idle clients once (env DCR_REAP_NEVER_USED, DCR_REAP_UNUSED;
                              default: anonymous clients never used within 24h or unused for 90d)
  prune --audit [--retention 90d]
                              delete audit events past their retention (env DCR_AUDIT_RETENTION)
  validate <file.json | -> [--tier T] [--json]
                              a dry run of registration: what a registration of this client metadata
                              would answer, store and change (dropped grants, narrowed scopes, inferred
                              application_type), or the error it would get and the member at fault
                              (RFC 6901 pointer). Tiers: anonymous (default; software_statement when
                              the metadata holds one), initial_access_token, authenticated,
                              software_statement, admin. Needs no database; reads the registration
                              settings of the reference server (DCR_ALLOWED_GRANT_TYPES, DCR_SCOPES,
                              DCR_REQUIRE_HTTPS_REDIRECT_URIS, DCR_CLIENT_SECRET_TTL, ISSUER).
                              Exit 0 valid, 1 refused, 2 usage
  help                        this text
  (every command but migrate and validate works on an existing database only: none creates one)

Options (or environment variables):
  --database-path (DATABASE_PATH, default ./oauth-dcr.db, SQLite; needs better-sqlite3)
  --database-url (DATABASE_URL, PostgreSQL; needs pg)
  --database-schema (DATABASE_SCHEMA, PostgreSQL schema, default the connection's search_path)

The reference authorization server is another package: npx oauth-dcr-server serve
(and npx oauth-dcr-server prune deletes its expired codes and tokens)`;

/** Runs one admin command to its end. */
export async function runAdminCommand(input: AdminCommandInput): Promise<void> {
  const [command, sub, ...rest] = input.positionals;
  switch (command) {
    case 'migrate':
      if (sub !== undefined) throw new UsageError(`migrate takes no argument, got ${JSON.stringify(sub)}`);
      return migrate(input);
    case 'iat':
      return runInitialAccessTokenCommand(input, sub, rest[0]);
    case 'clients':
      return runClientCommand(input, sub, rest[0]);
    case 'audit':
      return runAuditCommand(input, sub);
    case 'prune':
      return runPruneCommand(input, sub);
    case 'validate':
      return runValidateCommand(input, sub, rest);
    case undefined:
    case 'help':
      input.output.out(USAGE);
      return;
    case 'serve':
    case 'keys':
      // These belong to the reference server: serve runs it, keys rotates the access-token
      // signing keys it keeps in its own tables.
      throw new UsageError(
        `${command} is a command of the reference server: npx oauth-dcr-server ${[command, sub].filter(Boolean).join(' ')}`,
      );
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (see oauth-dcr help)`);
  }
}

/** The one command that may create a database: it applies oauth-dcr's migrations, and nothing else. */
async function migrate(input: AdminCommandInput): Promise<void> {
  const storage = loadAdminStorage(input.env, input.flags);
  const store = await openAdminStore(storage, { mustExist: false });
  try {
    const applied = await store.migrate();
    input.output.out(
      applied.length > 0
        ? `applied migrations to ${store.description}: ${applied.join(', ')}`
        : `${store.description} is up to date`,
    );
  } finally {
    await store.close();
  }
}

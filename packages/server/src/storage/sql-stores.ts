import { randomUUID } from 'node:crypto';
import type { Compilable, Insertable, QueryResult, Selectable } from 'kysely';
import { isStorableText } from 'oauth-dcr';
import {
  checkStorableCode,
  checkStorableToken,
  checkStorableUser,
  joinScope,
  splitScope,
  type AuthorizationCodeRecord,
  type TokenKind,
  type TokenRecord,
  type TokenStore,
  type UserRecord,
  type UserStore,
} from './records.js';
import { joinResources, splitResources } from '../resources.js';
import { keyLookup, kyselyReads, type RunRead } from './key-lookups.js';
import {
  TOKEN_NOT_LIVE,
  type RefAuthorizationCodesTable,
  type RefTokensTable,
  type RefUsersTable,
  type ReferenceDb,
} from './reference-schema.js';

/** Runs one write statement through the client store's own write path (see SqlClientStore.executeWrite). */
export type WriteStatement = <R>(query: Compilable<R>) => Promise<QueryResult<R>>;

/**
 * Users, codes and tokens in the client store's database, through its Kysely instance. Every
 * change is one statement, so it is atomic on both dialects without a transaction (but for a
 * rotation or exchange on PostgreSQL, see #spendAndInsert); "use once" rules (codes, refresh
 * tokens) are conditional updates whose affected-row count decides.
 * Writes go through the client store's write path: on SQLite they join its group commit, so a
 * busy token endpoint shares fsyncs instead of paying one per token.
 */
export class SqlTokenStore implements TokenStore {
  readonly #findCode;
  readonly #findToken;

  constructor(
    private readonly db: ReferenceDb,
    private readonly write: WriteStatement,
    private readonly dialect: 'sqlite' | 'postgres',
    reads: RunRead = kyselyReads(db),
  ) {
    this.#findCode = keyLookup(
      (codeHash) => db.selectFrom('ref_authorization_codes').selectAll().where('code_hash', '=', codeHash),
      reads,
    );
    this.#findToken = keyLookup(
      (tokenHash) => db.selectFrom('ref_tokens').selectAll().where('token_hash', '=', tokenHash),
      reads,
    );
  }

  async insertAuthorizationCode(record: AuthorizationCodeRecord): Promise<void> {
    checkStorableCode(record);
    await this.write(
      this.db.insertInto('ref_authorization_codes').values({
        code_hash: record.codeHash,
        grant_id: record.grantId,
        client_id: record.clientId,
        user_id: record.userId,
        redirect_uri: record.redirectUri,
        redirect_uri_sent: record.redirectUriSent ? 1 : 0,
        scope: joinScope(record.scope),
        resources: joinResources(record.resources),
        code_challenge: record.codeChallenge ?? null,
        code_challenge_method: record.codeChallengeMethod ?? null,
        expires_at: record.expiresAt,
        created_at: record.createdAt,
        used_at: record.usedAt ?? null,
      }),
    );
  }

  async findAuthorizationCode(codeHash: string): Promise<AuthorizationCodeRecord | null> {
    // No stored key holds NUL (records.ts); PostgreSQL would refuse the query rather than miss.
    if (!isStorableText(codeHash)) return null;
    const row = await this.#findCode(codeHash);
    return row ? rowToCode(row) : null;
  }

  async consumeAuthorizationCode(codeHash: string, at: number): Promise<boolean> {
    if (!isStorableText(codeHash)) return false;
    return (
      affected(
        await this.write(
          this.db
            .updateTable('ref_authorization_codes')
            .set({ used_at: at })
            .where('code_hash', '=', codeHash)
            .where('used_at', 'is', null),
        ),
      ) > 0
    );
  }

  async insertTokens(records: TokenRecord[]): Promise<void> {
    if (records.length === 0) return;
    for (const record of records) checkStorableToken(record);
    await this.write(this.db.insertInto('ref_tokens').values(records.map((record) => tokenRow(record))));
  }

  /**
   * Revokes the live refresh token and inserts its successors, all or nothing, so no crash can
   * leave one without the other. SQLite: one INSERT statement whose trigger revokes the old token
   * (./reference-schema.ts, 003): one statement is atomic, and it joins the group commit as one
   * entry, so a lost race aborts that statement and no other write of the batch. PostgreSQL: the
   * conditional UPDATE and the INSERT in one transaction; the UPDATE's row lock makes a concurrent
   * rotation wait, then find the token revoked and change nothing.
   */
  async rotateRefreshToken(tokenHash: string, records: TokenRecord[]): Promise<boolean> {
    if (!isStorableText(tokenHash) || records.length === 0) return false;
    for (const record of records) checkStorableToken(record);
    const rows = records.map((record, index) => ({
      ...tokenRow(record),
      ...(index === 0 ? { replaces_token: tokenHash } : {}),
    }));
    if (this.dialect === 'sqlite') {
      try {
        await this.write(this.db.insertInto('ref_tokens').values(rows));
        return true;
      } catch (error) {
        if (error instanceof Error && error.message === TOKEN_NOT_LIVE) return false;
        throw error;
      }
    }
    return this.db.transaction().execute(async (trx) => {
      const { numUpdatedRows } = await trx
        .updateTable('ref_tokens')
        .set({ revoked_at: records[0]!.createdAt })
        .where('token_hash', '=', tokenHash)
        .where('kind', '=', 'refresh')
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (numUpdatedRows === 0n) return false;
      await trx.insertInto('ref_tokens').values(rows).execute();
      return true;
    });
  }

  async findToken(tokenHash: string): Promise<TokenRecord | null> {
    if (!isStorableText(tokenHash)) return null;
    const row = await this.#findToken(tokenHash);
    return row ? rowToToken(row) : null;
  }

  async revokeToken(tokenHash: string, at: number): Promise<boolean> {
    if (!isStorableText(tokenHash)) return false;
    return (
      affected(
        await this.write(
          this.db
            .updateTable('ref_tokens')
            .set({ revoked_at: at })
            .where('token_hash', '=', tokenHash)
            .where('revoked_at', 'is', null),
        ),
      ) > 0
    );
  }

  async revokeGrant(grantId: string, at: number): Promise<number> {
    if (!isStorableText(grantId)) return 0;
    await this.write(
      this.db
        .updateTable('ref_authorization_codes')
        .set({ used_at: at })
        .where('grant_id', '=', grantId)
        .where('used_at', 'is', null),
    );
    return affected(
      await this.write(
        this.db
          .updateTable('ref_tokens')
          .set({ revoked_at: at })
          .where('grant_id', '=', grantId)
          .where('revoked_at', 'is', null),
      ),
    );
  }

  async revokeClient(clientId: string, at: number): Promise<number> {
    if (!isStorableText(clientId)) return 0;
    await this.write(this.db.deleteFrom('ref_authorization_codes').where('client_id', '=', clientId));
    return affected(
      await this.write(
        this.db
          .updateTable('ref_tokens')
          .set({ revoked_at: at })
          .where('client_id', '=', clientId)
          .where('revoked_at', 'is', null),
      ),
    );
  }

  async pruneExpired(before: number): Promise<number> {
    const codes = affected(
      await this.write(this.db.deleteFrom('ref_authorization_codes').where('expires_at', '<', before)),
    );
    const tokens = affected(await this.write(this.db.deleteFrom('ref_tokens').where('expires_at', '<', before)));
    return codes + tokens;
  }
}

export class SqlUserStore implements UserStore {
  readonly #findById;

  constructor(
    private readonly db: ReferenceDb,
    reads: RunRead = kyselyReads(db),
  ) {
    this.#findById = keyLookup((id) => db.selectFrom('ref_users').selectAll().where('id', '=', id), reads);
  }

  async findUserByName(username: string): Promise<UserRecord | null> {
    if (!isStorableText(username)) return null;
    const row = await this.db.selectFrom('ref_users').selectAll().where('username', '=', username).executeTakeFirst();
    return row ? rowToUser(row) : null;
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    if (!isStorableText(id)) return null;
    const row = await this.#findById(id);
    return row ? rowToUser(row) : null;
  }

  async upsertUser(username: string, passwordHash: string, at: number): Promise<UserRecord> {
    checkStorableUser(username, passwordHash);
    // One statement on both dialects: insert, or on a taken username set the new password.
    await this.db
      .insertInto('ref_users')
      .values({ id: randomUUID(), username, password_hash: passwordHash, created_at: at })
      .onConflict((conflict) => conflict.column('username').doUpdateSet({ password_hash: passwordHash }))
      .execute();
    const user = await this.findUserByName(username);
    if (!user) throw new Error(`user ${username} vanished while being saved`);
    return user;
  }

  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom('ref_users')
      .select((eb) => eb.fn.countAll().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }
}

function rowToUser(row: Selectable<RefUsersTable>): UserRecord {
  return { id: row.id, username: row.username, passwordHash: row.password_hash, createdAt: Number(row.created_at) };
}

function rowToCode(row: Selectable<RefAuthorizationCodesTable>): AuthorizationCodeRecord {
  const record: AuthorizationCodeRecord = {
    codeHash: row.code_hash,
    grantId: row.grant_id,
    clientId: row.client_id,
    userId: row.user_id,
    redirectUri: row.redirect_uri,
    redirectUriSent: Number(row.redirect_uri_sent) === 1,
    expiresAt: Number(row.expires_at),
    createdAt: Number(row.created_at),
  };
  const scope = splitScope(row.scope);
  if (scope) record.scope = scope;
  const resources = splitResources(row.resources);
  if (resources) record.resources = resources;
  if (row.code_challenge !== null) record.codeChallenge = row.code_challenge;
  if (row.code_challenge_method !== null) record.codeChallengeMethod = row.code_challenge_method;
  if (row.used_at !== null) record.usedAt = Number(row.used_at);
  return record;
}

function tokenRow(record: TokenRecord): Insertable<RefTokensTable> {
  return {
    token_hash: record.tokenHash,
    kind: record.kind,
    grant_id: record.grantId,
    client_id: record.clientId,
    user_id: record.userId ?? null,
    scope: joinScope(record.scope),
    resources: joinResources(record.resources),
    expires_at: record.expiresAt,
    created_at: record.createdAt,
    revoked_at: record.revokedAt ?? null,
    ...(record.instanceKey !== undefined ? { instance_key: record.instanceKey } : {}),
  };
}

function rowToToken(row: Selectable<RefTokensTable>): TokenRecord {
  const record: TokenRecord = {
    tokenHash: row.token_hash,
    kind: row.kind as TokenKind,
    grantId: row.grant_id,
    clientId: row.client_id,
    expiresAt: Number(row.expires_at),
    createdAt: Number(row.created_at),
  };
  if (row.user_id !== null) record.userId = row.user_id;
  const scope = splitScope(row.scope);
  if (scope) record.scope = scope;
  const resources = splitResources(row.resources);
  if (resources) record.resources = resources;
  if (row.revoked_at !== null) record.revokedAt = Number(row.revoked_at);
  if (row.instance_key !== null && row.instance_key !== undefined) record.instanceKey = row.instance_key;
  return record;
}

export function affected(result: QueryResult<unknown>): number {
  return Number(result.numAffectedRows ?? 0n);
}

import { sql, type Selectable } from 'kysely';
import { isStorableText } from 'oauth-dcr';
import type { SigningKeyRecord, SigningKeyStore, UsedOnceStore } from './records.js';
import type { ReferenceDb, RefSigningKeysTable } from './reference-schema.js';
import { affected, type WriteStatement } from './sql-stores.js';

/**
 * The access-token signing keys (RFC 9068) and the used client assertion ids (RFC 7523 §3) in
 * the client store's database, written through its write path like the token store's rows.
 */

export class SqlSigningKeyStore implements SigningKeyStore {
  constructor(
    private readonly db: ReferenceDb,
    private readonly write: WriteStatement,
    private readonly dialect: 'sqlite' | 'postgres',
  ) {}

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('ref_signing_keys').selectAll().execute();
    return rows.map(rowToSigningKey);
  }

  async insertSigningKey(record: SigningKeyRecord): Promise<void> {
    await this.write(
      this.db.insertInto('ref_signing_keys').values({
        kid: record.kid,
        alg: record.alg,
        public_jwk: record.publicJwk,
        private_jwk: record.privateJwk,
        created_at: record.createdAt,
        retired_at: record.retiredAt ?? null,
      }),
    );
  }

  async insertFirstSigningKey(record: SigningKeyRecord): Promise<boolean> {
    const live = this.db.selectFrom('ref_signing_keys').select('kid').where('retired_at', 'is', null);
    if (this.dialect === 'sqlite') {
      // One statement in the store's write transaction, which holds SQLite's write lock: no other
      // connection can insert between the check and the insert.
      const result = await this.write(
        this.db
          .insertInto('ref_signing_keys')
          .columns(['kid', 'alg', 'public_jwk', 'private_jwk', 'created_at'])
          .expression(
            this.db
              .selectNoFrom((eb) => [
                eb.val(record.kid).as('kid'),
                eb.val(record.alg).as('alg'),
                eb.val(record.publicJwk).as('public_jwk'),
                eb.val(record.privateJwk).as('private_jwk'),
                eb.val(record.createdAt).as('created_at'),
              ])
              .where((eb) => eb.not(eb.exists(live))),
          ),
      );
      return affected(result) === 1;
    }
    // PostgreSQL (READ COMMITTED): a statement's snapshot predates any lock it takes, so the lock
    // comes first, in its own statement, and the check after it sees every committed key.
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended('oauth-dcr signing keys', 0))`.execute(trx);
      const existing = await trx
        .selectFrom('ref_signing_keys')
        .select('kid')
        .where('retired_at', 'is', null)
        .limit(1)
        .execute();
      if (existing.length > 0) return false;
      await trx
        .insertInto('ref_signing_keys')
        .values({
          kid: record.kid,
          alg: record.alg,
          public_jwk: record.publicJwk,
          private_jwk: record.privateJwk,
          created_at: record.createdAt,
          retired_at: null,
        })
        .execute();
      return true;
    });
  }

  async retireSigningKeys(keepKid: string, at: number): Promise<number> {
    return affected(
      await this.write(
        this.db
          .updateTable('ref_signing_keys')
          .set({ retired_at: at })
          .where('kid', '!=', keepKid)
          .where('retired_at', 'is', null),
      ),
    );
  }

  async deleteRetiredSigningKeys(before: number): Promise<number> {
    return affected(
      await this.write(
        this.db.deleteFrom('ref_signing_keys').where('retired_at', 'is not', null).where('retired_at', '<', before),
      ),
    );
  }
}

/**
 * Insert-if-absent: one statement, so two instances seeing the same key at once cannot both
 * succeed. An expired record with the same key is replaced in the same statement.
 */
export class SqlUsedOnceStore implements UsedOnceStore {
  constructor(
    private readonly db: ReferenceDb,
    private readonly write: WriteStatement,
  ) {}

  async useOnce(key: string, expiresAt: number): Promise<boolean> {
    if (!isStorableText(key)) return false;
    const now = Math.floor(Date.now() / 1000);
    const result = await this.write(
      this.db
        .insertInto('ref_used_client_assertions')
        .values({ assertion_key: key, expires_at: expiresAt })
        .onConflict((conflict) =>
          conflict
            .column('assertion_key')
            .doUpdateSet({ expires_at: expiresAt })
            .where('ref_used_client_assertions.expires_at', '<', now),
        ),
    );
    return affected(result) > 0;
  }

  async pruneExpired(before: number): Promise<number> {
    return affected(
      await this.write(this.db.deleteFrom('ref_used_client_assertions').where('expires_at', '<', before)),
    );
  }
}

function rowToSigningKey(row: Selectable<RefSigningKeysTable>): SigningKeyRecord {
  const record: SigningKeyRecord = {
    kid: row.kid,
    alg: row.alg,
    publicJwk: row.public_jwk,
    privateJwk: row.private_jwk,
    createdAt: Number(row.created_at),
  };
  if (row.retired_at !== null) record.retiredAt = Number(row.retired_at);
  return record;
}

import type { Selectable } from 'kysely';
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

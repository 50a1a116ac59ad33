import { randomUUID } from 'node:crypto';
import {
  checkStorableCode,
  checkStorableToken,
  checkStorableUser,
  type AuthorizationCodeRecord,
  type SigningKeyRecord,
  type SigningKeyStore,
  type TokenRecord,
  type UsedOnceStore,
  type TokenStore,
  type UserRecord,
  type UserStore,
} from './records.js';

/**
 * Users, codes and tokens in process memory (DCR_STORE=memory, for benchmarks and tests). Each
 * method body runs without an await, so consume and revoke are atomic as in the SQL stores.
 */
export class MemoryTokenStore implements TokenStore {
  readonly #codes = new Map<string, AuthorizationCodeRecord>();
  readonly #tokens = new Map<string, TokenRecord>();

  async insertAuthorizationCode(record: AuthorizationCodeRecord): Promise<void> {
    // As the SQL stores must (records.ts): lookups by NUL then miss here as they do there.
    checkStorableCode(record);
    this.#codes.set(record.codeHash, structuredClone(record));
  }

  async findAuthorizationCode(codeHash: string): Promise<AuthorizationCodeRecord | null> {
    const record = this.#codes.get(codeHash);
    return record ? structuredClone(record) : null;
  }

  async consumeAuthorizationCode(codeHash: string, at: number): Promise<boolean> {
    const record = this.#codes.get(codeHash);
    if (!record || record.usedAt !== undefined) return false;
    record.usedAt = at;
    return true;
  }

  async insertTokens(records: TokenRecord[]): Promise<void> {
    for (const record of records) checkStorableToken(record);
    for (const record of records) this.#tokens.set(record.tokenHash, structuredClone(record));
  }

  async rotateRefreshToken(tokenHash: string, records: TokenRecord[]): Promise<boolean> {
    const old = this.#tokens.get(tokenHash);
    if (old?.kind !== 'refresh' || old.revokedAt !== undefined || records.length === 0) return false;
    this.#checkNew(records);
    old.revokedAt = records[0]!.createdAt;
    for (const record of records) this.#tokens.set(record.tokenHash, structuredClone(record));
    return true;
  }

  /** Before anything changes, as a failed INSERT changes nothing in the SQL stores. */
  #checkNew(records: TokenRecord[]): void {
    for (const record of records) {
      checkStorableToken(record);
      if (this.#tokens.has(record.tokenHash)) throw new Error('a token with this hash is already stored');
    }
  }

  async findToken(tokenHash: string): Promise<TokenRecord | null> {
    const record = this.#tokens.get(tokenHash);
    return record ? structuredClone(record) : null;
  }

  async revokeToken(tokenHash: string, at: number): Promise<boolean> {
    const record = this.#tokens.get(tokenHash);
    if (!record || record.revokedAt !== undefined) return false;
    record.revokedAt = at;
    return true;
  }

  async revokeGrant(grantId: string, at: number): Promise<number> {
    for (const code of this.#codes.values()) if (code.grantId === grantId) code.usedAt ??= at;
    return this.#revokeWhere((token) => token.grantId === grantId, at);
  }

  async revokeClient(clientId: string, at: number): Promise<number> {
    for (const [hash, code] of this.#codes) if (code.clientId === clientId) this.#codes.delete(hash);
    return this.#revokeWhere((token) => token.clientId === clientId, at);
  }

  async pruneExpired(before: number): Promise<number> {
    let pruned = 0;
    for (const [hash, code] of this.#codes) if (code.expiresAt < before && this.#codes.delete(hash)) pruned++;
    for (const [hash, token] of this.#tokens) if (token.expiresAt < before && this.#tokens.delete(hash)) pruned++;
    return pruned;
  }

  #revokeWhere(matches: (token: TokenRecord) => boolean, at: number): number {
    let revoked = 0;
    for (const token of this.#tokens.values()) {
      if (token.revokedAt === undefined && matches(token)) {
        token.revokedAt = at;
        revoked++;
      }
    }
    return revoked;
  }
}

export class MemorySigningKeyStore implements SigningKeyStore {
  readonly #keys = new Map<string, SigningKeyRecord>();

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return [...this.#keys.values()].map((key) => ({ ...key }));
  }

  async insertSigningKey(record: SigningKeyRecord): Promise<void> {
    if (this.#keys.has(record.kid)) throw new Error(`signing key ${record.kid} exists`);
    this.#keys.set(record.kid, { ...record });
  }

  async insertFirstSigningKey(record: SigningKeyRecord): Promise<boolean> {
    for (const key of this.#keys.values()) if (key.retiredAt === undefined) return false;
    await this.insertSigningKey(record);
    return true;
  }

  async retireSigningKeys(keepKid: string, at: number): Promise<number> {
    let retired = 0;
    for (const key of this.#keys.values()) {
      if (key.kid !== keepKid && key.retiredAt === undefined) {
        key.retiredAt = at;
        retired++;
      }
    }
    return retired;
  }

  async deleteRetiredSigningKeys(before: number): Promise<number> {
    let deleted = 0;
    for (const [kid, key] of this.#keys)
      if (key.retiredAt !== undefined && key.retiredAt < before && this.#keys.delete(kid)) deleted++;
    return deleted;
  }
}

export class MemoryUsedOnceStore implements UsedOnceStore {
  readonly #used = new Map<string, number>();

  async useOnce(key: string, expiresAt: number): Promise<boolean> {
    const seen = this.#used.get(key);
    if (seen !== undefined && seen >= Math.floor(Date.now() / 1000)) return false;
    this.#used.set(key, expiresAt);
    return true;
  }

  async pruneExpired(before: number): Promise<number> {
    let pruned = 0;
    for (const [key, expiresAt] of this.#used) if (expiresAt < before && this.#used.delete(key)) pruned++;
    return pruned;
  }
}

export class MemoryUserStore implements UserStore {
  readonly #users = new Map<string, UserRecord>();

  async findUserByName(username: string): Promise<UserRecord | null> {
    for (const user of this.#users.values()) if (user.username === username) return { ...user };
    return null;
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    const user = this.#users.get(id);
    return user ? { ...user } : null;
  }

  async upsertUser(username: string, passwordHash: string, at: number): Promise<UserRecord> {
    checkStorableUser(username, passwordHash);
    const existing = await this.findUserByName(username);
    const user: UserRecord = existing
      ? { ...existing, passwordHash }
      : { id: randomUUID(), username, passwordHash, createdAt: at };
    this.#users.set(user.id, user);
    return { ...user };
  }

  async countUsers(): Promise<number> {
    return this.#users.size;
  }
}

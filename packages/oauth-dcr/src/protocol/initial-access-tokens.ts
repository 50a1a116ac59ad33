import { randomUUID } from 'node:crypto';
import type { ClientStore, InitialAccessTokenRecord } from '../store/types.js';
import { generateSecret, hashSecret } from '../core/secrets.js';

/**
 * Initial access tokens (RFC 7591 §3): minted by an operator, presented as a bearer token at
 * the registration endpoint. Only the hash is stored; the token is shown once, at creation.
 */
export interface CreateInitialAccessTokenOptions {
  /** How many registrations it allows; omitted or null means unlimited. */
  uses?: number | null;
  /** Lifetime in seconds; omitted or null means it never expires. */
  expiresIn?: number | null;
  label?: string;
}

export interface InitialAccessTokenAdmin {
  create(options?: CreateInitialAccessTokenOptions): Promise<{ token: string; record: InitialAccessTokenRecord }>;
  list(): Promise<InitialAccessTokenRecord[]>;
  revoke(id: string): Promise<boolean>;
}

export function initialAccessTokenAdmin(store: ClientStore, now: () => number): InitialAccessTokenAdmin {
  return {
    async create(options = {}) {
      const { uses = null, expiresIn = null, label } = options;
      if (uses !== null && (!Number.isInteger(uses) || uses < 1))
        throw new TypeError('uses must be a positive integer');
      if (expiresIn !== null && (!Number.isInteger(expiresIn) || expiresIn < 1)) {
        throw new TypeError('expiresIn must be a positive number of seconds');
      }
      const token = generateSecret();
      const createdAt = now();
      const record: InitialAccessTokenRecord = {
        id: randomUUID(),
        tokenHash: hashSecret(token),
        usesRemaining: uses,
        expiresAt: expiresIn === null ? null : createdAt + expiresIn,
        createdAt,
      };
      if (label !== undefined) record.label = label;
      await store.insertInitialAccessToken(record);
      return { token, record };
    },
    list: () => store.listInitialAccessTokens(),
    revoke: (id) => store.revokeInitialAccessToken(id, now()),
  };
}

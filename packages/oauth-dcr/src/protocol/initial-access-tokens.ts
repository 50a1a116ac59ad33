import { randomUUID } from 'node:crypto';
import type { ClientStore, InitialAccessTokenRecord } from '../store/types.js';
import { generateSecret, hashSecret } from '../core/secrets.js';

/**
 * Initial access tokens (RFC 7591 §3): minted by an operator, presented as a bearer token at
 * the registration endpoint. Only the hash is stored; the token is shown once, at creation.
 * These options shape a new one.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 */
export interface CreateInitialAccessTokenOptions {
  /** How many registrations it allows; omitted or null means unlimited. */
  uses?: number | null;
  /** Lifetime in seconds; omitted or null means it never expires. */
  expiresIn?: number | null;
  /** A note for operators (who the token was for); never shown to clients. */
  label?: string;
}

/**
 * The operator's side of initial access tokens (`Registration.initialAccessTokens`): tokens that
 * let a client register when open registration is off.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 */
export interface InitialAccessTokenAdmin {
  /** Mints a token. `token` is the only copy of its value: hand it over now; the store keeps its hash. */
  create(options?: CreateInitialAccessTokenOptions): Promise<{ token: string; record: InitialAccessTokenRecord }>;
  /** Every token the store holds, revoked, expired and spent ones included. */
  list(): Promise<InitialAccessTokenRecord[]>;
  /** Revokes a token by its record id; resolves false when there was none or it was already revoked. */
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

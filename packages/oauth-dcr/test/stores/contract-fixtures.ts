/**
 * Records the store contract suites build on: fresh ids and hashes, a minimal client, a client with
 * every field set, an initial access token.
 */
import { randomBytes } from 'node:crypto';
import type { ClientRecord, ClientStore, InitialAccessTokenRecord } from '../../src/store/types.js';

export const T0 = 1_700_000_000;
/** After 2038: catches 32-bit timestamp columns and BIGINT values coming back as strings. */
export const YEAR_2100 = 4_102_444_800;

export function randomId(prefix = 'client'): string {
  return `${prefix}-${randomBytes(9).toString('base64url')}`;
}

export function hash(): string {
  return randomBytes(32).toString('hex');
}

/** A client with only the required fields. */
export function minimalClient(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: randomId(),
    metadata: { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' },
    clientIdIssuedAt: T0,
    clientSecretExpiresAt: 0,
    registeredVia: 'anonymous',
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** A client with every field set, and metadata that is easy to mangle. */
export function fullClient(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: randomId(),
    metadata: {
      redirect_uris: [
        'https://app.example/cb?b=2&a=1',
        'cursor://anysphere.cursor-retrieval/oauth/callback',
        'http://127.0.0.1:33418/',
      ],
      client_name: 'Example',
      'client_name#ja-Jpan-JP': 'クライアント名',
      'client_name#en-US': 'Example (US)',
      grant_types: ['authorization_code', 'refresh_token'],
      contacts: [],
      jwks: {
        keys: [
          {
            kty: 'EC',
            crv: 'P-256',
            x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
            use: 'sig',
            key_ops: ['verify'],
          },
        ],
      },
      nested: [[1, 2.5, -3], [true, false, null], [{ deep: ['x'] }], []],
      empty_object: {},
      emoji: '🔐 \u00e9\u0301',
      software_version: '1.0.0',
    },
    clientIdIssuedAt: T0,
    clientSecretHash: hash(),
    clientSecretExpiresAt: YEAR_2100,
    previousSecretHash: hash(),
    previousSecretExpiresAt: YEAR_2100 - 1,
    registrationAccessTokenHash: hash(),
    registeredVia: 'initial_access_token',
    registeredBy: 'iat-1',
    createdAt: T0,
    updatedAt: T0 + 1,
    lastUsedAt: T0 + 2,
    registrationFingerprint: hash(),
    grantedRights: ['introspection=https://mcp.example/|https://other.example/', 'introspection'],
    ...overrides,
  };
}

export function token(overrides: Partial<InitialAccessTokenRecord> = {}): InitialAccessTokenRecord {
  return {
    id: randomId('iat'),
    tokenHash: hash(),
    usesRemaining: 3,
    expiresAt: null,
    createdAt: T0,
    ...overrides,
  };
}

/** The order SQLite's BINARY and PostgreSQL's "C" collation give: UTF-8 bytes, i.e. code points. */
export function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** What every store contract suite gets from clientStoreContract. */
export interface ContractContext {
  makeStore: () => Promise<ClientStore>;
  /** Runs `body` with a fresh store, closed afterwards whatever happens. */
  withStore: (body: (store: ClientStore) => Promise<void>) => Promise<void>;
  /** Registered only for stores with shared storage (see StoreContractOptions.openAnother). */
  itWithSharedStorage: (name: string, fn: () => Promise<void>) => void;
  openAnother?: (store: ClientStore) => Promise<ClientStore>;
}

/** Runs `body` with a store and a second instance over the same storage, both closed afterwards. */
export async function withTwoInstances(
  context: ContractContext,
  body: (first: ClientStore, second: ClientStore) => Promise<void>,
): Promise<void> {
  const first = await context.makeStore();
  try {
    const second = await context.openAnother!(first);
    try {
      await body(first, second);
    } finally {
      await second.close();
    }
  } finally {
    await first.close();
  }
}

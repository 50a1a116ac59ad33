/**
 * The storage contract. One interface for every backend (memory, SQLite, PostgreSQL); the
 * contract suite in test/stores/ runs against each of them.
 *
 * Rules every implementation keeps:
 * - A resolved write is durable (for SQL stores: committed). `insertClient` resolving is what lets
 *   the endpoint answer 201. The one exception is `recordClientUse`, see there.
 * - Failures callers may branch on are the classes in ./errors.ts (ClientExistsError,
 *   StoreClosedError); any method called after close() rejects with StoreClosedError.
 * - Timestamps are integer epoch seconds.
 * - Secrets and tokens arrive already hashed (see src/secrets.ts); a store never sees a plaintext.
 * - Records are copied in: changing an object after handing it to a store changes nothing stored.
 * - Strings outside JSON (ids, hashes, labels) never hold U+0000, which PostgreSQL text cannot:
 *   a lookup by such a value finds nothing, a write of one is refused; see ./text.ts.
 * - Records come back deep-frozen. A store may hand the same object to every caller (the memory
 *   store returns what it holds, the SQLite store caches client records), so nobody may change
 *   one; spread it into a new object to derive a changed record.
 */

/** Registered client metadata, in RFC 7591 wire names (snake_case). */
export type ClientMetadata = Record<string, unknown>;

/** How a client got in: the trust tier recorded on every client. */
export type RegistrationVia =
  | 'anonymous'
  | 'initial_access_token'
  | 'authenticated'
  | 'software_statement'
  | 'metadata_document'
  | 'admin';

export interface ClientRecord {
  clientId: string;
  /** Validated metadata as registered and echoed (redirect_uris byte for byte, defaults applied). */
  metadata: ClientMetadata;
  /** RFC 7591 §3.2.1 client_id_issued_at. */
  clientIdIssuedAt: number;
  /** SHA-256 of the client secret; absent for `none` and key-based clients. */
  clientSecretHash?: string;
  /** RFC 7591 §3.2.1: 0 means the secret never expires. */
  clientSecretExpiresAt: number;
  /** During secret renewal the previous secret stays valid until its overlap ends. */
  previousSecretHash?: string;
  previousSecretExpiresAt?: number;
  /** SHA-256 of the RFC 7592 registration access token. */
  registrationAccessTokenHash?: string;
  registeredVia: RegistrationVia;
  /** The principal, initial access token id or statement issuer that admitted the client. */
  registeredBy?: string;
  createdAt: number;
  updatedAt: number;
  lastUsedAt?: number;
  /**
   * Counts the replaces of this client, so that a compare-and-set replace can tell whether the
   * client changed since it was read. Kept by the store, like lastUsedAt: insertClient starts it
   * at 0 and every replaceClient adds one, whatever the record handed in says. Absent means 0.
   */
  revision?: number;
}

/**
 * What a compare-and-set replace expects of the stored client: the revision it read (absent = 0)
 * and its registration access token hash (absent = none). A client record as read fits.
 */
export type ClientRevision = Pick<ClientRecord, 'revision' | 'registrationAccessTokenHash'>;

export interface InitialAccessTokenRecord {
  id: string;
  tokenHash: string;
  label?: string;
  /** Uses left; null means unlimited. */
  usesRemaining: number | null;
  /** Epoch seconds; null means never. */
  expiresAt: number | null;
  createdAt: number;
  revokedAt?: number;
}

export type AuditEventType =
  | 'client.registered'
  | 'client.read'
  | 'client.updated'
  | 'client.deleted'
  | 'client.secret_renewed'
  | 'registration.rejected'
  | 'token.rejected'
  | 'initial_access_token.created'
  | 'initial_access_token.revoked';

export interface AuditEvent {
  type: AuditEventType;
  at: number;
  clientId?: string;
  /** Who acted: principal, initial access token id, or 'anonymous'. */
  actor?: string;
  ip?: string;
  /** Already redacted: never a secret, token or hash. */
  detail?: Record<string, unknown>;
}

export interface StoredAuditEvent extends AuditEvent {
  id: number;
}

export interface ListClientsOptions {
  limit?: number;
  /** Return clients whose id sorts after this one (keyset pagination). */
  after?: string;
}

export interface ClientStore {
  /** Stores a new client. Rejects if the client_id exists. Resolves only once durable. */
  insertClient(record: ClientRecord): Promise<void>;
  findClient(clientId: string): Promise<ClientRecord | null>;
  /**
   * Replaces a client's record (RFC 7592 update, secret renewal, token rotation), except
   * `lastUsedAt`, which only recordClientUse moves (so a replace never loses a use), and
   * `revision`, which the replace moves one up. When `expected` is given (typically the record the
   * change was derived from) the write happens only if the stored client still has that revision
   * and that registration access token hash: a compare-and-set, atomic against every other writer
   * of the same storage, so of concurrent replaces derived from one read exactly one succeeds.
   * Resolves false when the client is gone or the expectation failed.
   */
  replaceClient(record: ClientRecord, expected?: ClientRevision): Promise<boolean>;
  /** Resolves false when there was nothing to delete. */
  deleteClient(clientId: string): Promise<boolean>;
  /**
   * Records that a client was used at `at`. It is on the token endpoint's hot path, so it is not
   * a durable write: it resolves once recorded in memory. The same store instance sees the new
   * time at once; other instances see it after the store's next background flush (about a
   * second), or after close(). `lastUsedAt` only moves forward; a use of an unknown client is
   * dropped.
   */
  recordClientUse(clientId: string, at: number): Promise<void>;
  /** Ordered by client_id (code point order), default limit 100. */
  listClients(options?: ListClientsOptions): Promise<ClientRecord[]>;

  insertInitialAccessToken(record: InitialAccessTokenRecord): Promise<void>;
  /**
   * Atomically spends one use of the token with this hash, if it exists, is not revoked, not
   * expired at `now` (expired means now >= expiresAt) and has uses left. Resolves the record as it was after the spend, or null.
   */
  consumeInitialAccessToken(tokenHash: string, now: number): Promise<InitialAccessTokenRecord | null>;
  listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]>;
  revokeInitialAccessToken(id: string, at: number): Promise<boolean>;

  appendAuditEvent(event: AuditEvent): Promise<void>;
  /** The newest `limit` events (default 100), returned oldest first. */
  listAuditEvents(options?: { clientId?: string; limit?: number }): Promise<StoredAuditEvent[]>;

  close(): Promise<void>;
}

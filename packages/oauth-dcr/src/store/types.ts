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

/**
 * Registered client metadata, in RFC 7591 wire names (snake_case), as a store holds it. The
 * package root exports the typed `ClientMetadata` instead.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 */
export type ClientMetadata = Record<string, unknown>;

/**
 * How a client got in: the trust tier recorded on every client. `anonymous` (open registration),
 * `initial_access_token`, `authenticated` (the `authenticate` hook named a principal),
 * `software_statement` (a trusted issuer's statement), `metadata_document` (a Client ID Metadata
 * Document), `attested` (a trusted Client Attester vouched for the software, the `clientAttestation`
 * option) or `admin` (created by an operator).
 */
export type RegistrationVia = (typeof REGISTRATION_TIERS)[number];

/** Every trust tier, for settings, metrics and reapers that are keyed on the tier. */
export const REGISTRATION_TIERS = [
  'anonymous',
  'initial_access_token',
  'authenticated',
  'software_statement',
  'metadata_document',
  'attested',
  'admin',
] as const;

/**
 * A registered client as stored: its metadata, the hashes of its credentials, and bookkeeping.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1
 * @see https://www.rfc-editor.org/rfc/rfc7592#section-3
 */
export interface ClientRecord {
  /** RFC 7591 §3.2.1 client_id, unique in the store. */
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
  /** When the previous secret stops being accepted. */
  previousSecretExpiresAt?: number;
  /** SHA-256 of the RFC 7592 registration access token. */
  registrationAccessTokenHash?: string;
  /** How the client got in (its trust tier). */
  registeredVia: RegistrationVia;
  /** The principal, initial access token id or statement issuer that admitted the client. */
  registeredBy?: string;
  /** When the record was first stored. */
  createdAt: number;
  /** When the record was last replaced (update, secret renewal, token rotation). */
  updatedAt: number;
  /** When the client was last used at the token endpoint, as `recordClientUse` reported it. */
  lastUsedAt?: number;
  /**
   * Counts the replaces of this client, so that a compare-and-set replace can tell whether the
   * client changed since it was read. Kept by the store, like lastUsedAt: insertClient starts it
   * at 0 and every replaceClient adds one, whatever the record handed in says. Absent means 0.
   */
  revision?: number;
  /**
   * When an operator disabled the client; absent while it is enabled. A disabled client resolves
   * to nothing at the authorization, token, revocation and introspection endpoints and at RFC 7592,
   * and keeps its record so that it can be enabled again. Moved only by setClientDisabled.
   */
  disabledAt?: number;
  /**
   * Opt-in re-registration de-duplication: a digest of what makes two public registrations the same
   * (software_id or name, redirect URIs, address). Never holds anything secret.
   */
  registrationFingerprint?: string;
  /**
   * Rights an operator granted (`oauth-dcr clients create --right ...`), such as `introspection` or
   * `introspection=https://mcp.example/|https://other.example/`. Never set or changed through
   * registration or RFC 7592, and never echoed to the client.
   */
  grantedRights?: string[];
}

/**
 * What a compare-and-set replace expects of the stored client: the revision it read (absent = 0)
 * and its registration access token hash (absent = none). A client record as read fits.
 */
export type ClientRevision = Pick<ClientRecord, 'revision' | 'registrationAccessTokenHash'>;

/**
 * An initial access token as stored: never the token itself, only its hash.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 */
export interface InitialAccessTokenRecord {
  /** The record's own id, for listing and revoking; not the token. */
  id: string;
  /** SHA-256 of the token (see `hashSecret`). */
  tokenHash: string;
  /** The operator's note. */
  label?: string;
  /** Uses left; null means unlimited. */
  usesRemaining: number | null;
  /** Epoch seconds; null means never. */
  expiresAt: number | null;
  /** When it was created. */
  createdAt: number;
  /** When it was revoked; absent while it is not. */
  revokedAt?: number;
}

/** What happened: a client's life cycle, refusals, and initial access token administration. */
export type AuditEventType =
  | 'client.registered'
  | 'client.read'
  | 'client.updated'
  | 'client.deleted'
  | 'client.secret_renewed'
  | 'registration.rejected'
  | 'token.rejected'
  | 'initial_access_token.created'
  | 'initial_access_token.revoked'
  /** An operator disabled or enabled a client (CLI or admin page). */
  | 'client.disabled'
  | 'client.enabled'
  /** The idle-client reaper deleted a client; detail.reason says which rule. */
  | 'client.reaped'
  /** Failed client authentication at a token, revocation, introspection or RFC 7592 endpoint. */
  | 'client.authentication_failed'
  /** A request refused with 429; detail.limit names the key kind, detail.endpoint where. */
  | 'request.rate_limited'
  /** A Client ID Metadata Document fetch; detail.outcome is ok, refused or error, detail.host its host. */
  | 'client_document.fetched';

/** One outcome at the registration endpoints, as `onEvent` receives it and the store keeps it. */
export interface AuditEvent {
  /** What happened. */
  type: AuditEventType;
  /** When, in epoch seconds. */
  at: number;
  /** The client concerned, if any. */
  clientId?: string;
  /** Who acted: principal, initial access token id, or 'anonymous'. */
  actor?: string;
  /** The requester's IP address, when the adapter knows it. */
  ip?: string;
  /** Already redacted: never a secret, token or hash. */
  detail?: Record<string, unknown>;
}

/** An audit event as read back from a store. */
export interface StoredAuditEvent extends AuditEvent {
  /** Assigned by the store in insertion order. */
  id: number;
}

/** Clients per tier, as `countClients` reports them. */
export interface ClientCounts {
  /** Every stored client, disabled ones included. */
  total: number;
  /** By `registeredVia`; a tier with no client may be absent. */
  byTier: Partial<Record<RegistrationVia, number>>;
}

/**
 * Which idle clients of one tier `findIdleClients` / `deleteIdleClients` match: those never used
 * and created before `neverUsedCreatedBefore`, or (either rule) those whose last use, or creation
 * when never used, is before `unusedSince`. A rule left out matches nothing.
 */
export interface IdleClientQuery {
  registeredVia: RegistrationVia;
  neverUsedCreatedBefore?: number;
  unusedSince?: number;
  /** At most this many (a batch). */
  limit: number;
}

/** Which audit events `listAuditEvents` returns. */
export interface AuditEventQuery {
  clientId?: string;
  type?: AuditEventType;
  /** Only events at or after this epoch second. */
  since?: number;
  /** The newest `limit` matching events (default 100), returned oldest first. */
  limit?: number;
}

/** A page of `listClients`. */
export interface ListClientsOptions {
  /** At most this many clients (default 100). */
  limit?: number;
  /** Return clients whose id sorts after this one (keyset pagination). */
  after?: string;
}

/**
 * Where the endpoint keeps clients, initial access tokens and audit events: the contract every
 * store (memory, SQLite, PostgreSQL, or your own) implements, under the rules above.
 */
export interface ClientStore {
  /** Stores a new client. Rejects with ClientExistsError if the client_id exists. Resolves only once durable. */
  insertClient(record: ClientRecord): Promise<void>;
  /** The client with this id, deep-frozen, or null. */
  findClient(clientId: string): Promise<ClientRecord | null>;
  /**
   * Replaces a client's record (RFC 7592 update, secret renewal, token rotation), except
   * `lastUsedAt`, which only recordClientUse moves (so a replace never loses a use), `disabledAt`,
   * which only setClientDisabled moves (so a replace derived from a read before an operator's
   * decision never undoes it), and `revision`, which the replace moves one up. Everything else,
   * `grantedRights` and `registrationFingerprint` included, is written as given: derive the record
   * from a read (spread it) to keep them. When `expected` is given (typically the record the
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

  /** Stores a new initial access token. Rejects if its id or hash exists. */
  insertInitialAccessToken(record: InitialAccessTokenRecord): Promise<void>;
  /**
   * Atomically spends one use of the token with this hash, if it exists, is not revoked, not
   * expired at `now` (expired means now >= expiresAt) and has uses left. Resolves the record as it
   * was after the spend, or null.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
   */
  consumeInitialAccessToken(tokenHash: string, now: number): Promise<InitialAccessTokenRecord | null>;
  /** Every initial access token, revoked, expired and spent ones included. */
  listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]>;
  /** Marks the token revoked at `at`; resolves false when there was none or it was already revoked. */
  revokeInitialAccessToken(id: string, at: number): Promise<boolean>;

  /** How many clients are stored, in all and per tier (for registration caps and metrics). */
  countClients(): Promise<ClientCounts>;
  /**
   * Disables a client at `at`, or enables it again with null. Resolves false when there is no such
   * client. Moves `revision`, so an RFC 7592 change derived from an earlier read fails its
   * compare-and-set.
   */
  setClientDisabled(clientId: string, at: number | null): Promise<boolean>;
  /**
   * Idle clients of one tier (see IdleClientQuery), oldest first (by last use, or creation when
   * never used): what the reaper would delete. Uses this store instance has recorded but not yet
   * written count (a client used a moment ago is not idle); another instance's unwritten uses
   * reach the storage within its flush interval (about a second).
   */
  findIdleClients(query: IdleClientQuery): Promise<ClientRecord[]>;
  /**
   * Deletes at most `query.limit` idle clients of one tier, checking the rule in the same statement
   * (a client used since it was found is kept), and resolves the ids deleted. Durable once resolved.
   */
  deleteIdleClients(query: IdleClientQuery): Promise<string[]>;
  /** The newest client with this registration fingerprint created at or after `createdSince`, or null. */
  findClientByFingerprint(fingerprint: string, createdSince: number): Promise<ClientRecord | null>;

  /** Keeps an audit event (when `persistAuditEvents` is on). */
  appendAuditEvent(event: AuditEvent): Promise<void>;
  /** The newest matching events (default 100), returned oldest first. */
  listAuditEvents(options?: AuditEventQuery): Promise<StoredAuditEvent[]>;
  /** Deletes at most `limit` events older than `before` (epoch seconds), oldest first; resolves how many. */
  deleteAuditEventsBefore(before: number, limit: number): Promise<number>;

  /** Writes what is pending and lets go of connections; every later call rejects with StoreClosedError. */
  close(): Promise<void>;
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SigningKeyRecord, SigningKeyStore } from './storage/records.js';

/**
 * The keys that sign RFC 9068 access tokens, shared through the database so that restarts and
 * several instances sign with the same key and publish the same set.
 *
 * Life of a key: generated on first start (or by `oauth-dcr-server keys rotate`), it signs until
 * a newer key exists; it is then retired, stops signing, and stays published at jwks_uri until
 * every token it signed has expired (the access-token lifetime, plus the time an instance may
 * take to notice the rotation), after which `prune` deletes it. Live tokens are never orphaned.
 *
 * Instances re-read the keys every RELOAD_INTERVAL_SECONDS, so a rotation reaches all of them
 * within that time; until then the old key still signs, and is still published.
 *
 * The private key at rest: a JWK in the server's database. Whoever can read that database can
 * forge access tokens for every resource (codes and tokens are only hashes there, so this is the
 * one secret it would give away). With DCR_SIGNING_KEY_SECRET set, the private JWK is sealed with
 * AES-256-GCM under a key derived from that secret (HKDF-SHA-256), so a database dump or backup
 * alone is not enough; the secret then lives only in the servers' environment. Without it the JWK
 * is stored as is (and the banner says so), which keeps `npm start` free of setup.
 */

/** RFC 9068 §2.1 / RFC 7518 §3.4: an asymmetric algorithm; ES256 is the project default. */
export const ACCESS_TOKEN_ALG = 'ES256';
/** How often an instance re-reads the keys (rotation by another process reaches it within this). */
export const RELOAD_INTERVAL_SECONDS = 60;

export interface SigningKeyRingOptions {
  store: SigningKeyStore;
  /** Seconds an access token lives: how long a retired key stays published. */
  accessTokenTtl: number;
  /** DCR_SIGNING_KEY_SECRET: seals private keys at rest. */
  secret?: string;
  /** Epoch seconds (tests move time). */
  now?: () => number;
}

interface LoadedKey {
  record: SigningKeyRecord;
  publicJwk: JWK;
  privateKey?: Promise<CryptoKey>;
}

export class SigningKeyRing {
  readonly #store: SigningKeyStore;
  readonly #ttl: number;
  readonly #seal: KeySeal;
  readonly #now: () => number;
  #keys: LoadedKey[] = [];
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;

  private constructor(options: SigningKeyRingOptions) {
    this.#store = options.store;
    this.#ttl = options.accessTokenTtl;
    this.#seal = new KeySeal(options.secret);
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Loads the keys, generating the first one if there is none that signs. */
  static async open(options: SigningKeyRingOptions): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(options);
    await ring.#reload();
    if (!ring.#signing()) {
      // Only if no instance beat us to it: every instance then signs with, and publishes, one key.
      await ring.#store.insertFirstSigningKey(await ring.#generate());
      await ring.#reload();
    }
    // Fail at start, not at the first token, when the stored keys cannot be read.
    await ring.signingKey();
    return ring;
  }

  /** The key that signs now: the newest one not retired. */
  async signingKey(): Promise<{ kid: string; alg: string; key: CryptoKey }> {
    await this.#fresh();
    const current = this.#signing();
    if (!current) throw new Error('no access-token signing key: run oauth-dcr-server keys rotate');
    current.privateKey ??= this.#seal
      .open(current.record.privateJwk)
      .then((jwk) => importJWK(JSON.parse(jwk) as JWK, current.record.alg) as Promise<CryptoKey>);
    return { kid: current.record.kid, alg: current.record.alg, key: await current.privateKey };
  }

  /** RFC 7517 JWK Set for jwks_uri: the signing key and the retired keys whose tokens may live. */
  async publicJwks(): Promise<{ keys: JWK[] }> {
    await this.#fresh();
    const horizon = this.#now() - this.#publishedFor();
    return {
      keys: this.#keys
        .filter((key) => key.record.retiredAt === undefined || key.record.retiredAt >= horizon)
        .map((key) => key.publicJwk),
    };
  }

  /** Every stored key with its state, newest first (`keys list`). */
  async describe(): Promise<Array<{ kid: string; alg: string; createdAt: number; state: string }>> {
    await this.#reload();
    const signing = this.#signing();
    return this.#keys.map(({ record }) => ({
      kid: record.kid,
      alg: record.alg,
      createdAt: record.createdAt,
      state:
        record === signing?.record
          ? 'signing'
          : record.retiredAt === undefined
            ? 'published (superseded)'
            : `retired; published until ${new Date((record.retiredAt + this.#publishedFor()) * 1000).toISOString()}`,
    }));
  }

  /** Generates a key that signs from now on, and retires the others (still published). */
  async rotate(): Promise<string> {
    const record = await this.#generate();
    await this.#store.insertSigningKey(record);
    await this.#store.retireSigningKeys(record.kid, record.createdAt);
    await this.#reload();
    return record.kid;
  }

  /** Deletes retired keys no live token can need; resolves how many went. */
  prune(): Promise<number> {
    return pruneRetiredKeys(this.#store, this.#ttl, this.#now());
  }

  #publishedFor(): number {
    return publishedFor(this.#ttl);
  }

  #signing(): LoadedKey | undefined {
    // Two instances starting together may both generate one; the newest wins everywhere alike.
    return this.#keys.find((key) => key.record.retiredAt === undefined);
  }

  async #fresh(): Promise<void> {
    if (this.#now() - this.#loadedAt >= RELOAD_INTERVAL_SECONDS) await this.#reload();
  }

  #reload(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const records = await this.#store.listSigningKeys();
        records.sort((a, b) => b.createdAt - a.createdAt || (a.kid < b.kid ? 1 : -1));
        const previous = new Map(this.#keys.map((key) => [key.record.kid, key]));
        this.#keys = records.map((record) => {
          const known = previous.get(record.kid);
          const publicJwk = JSON.parse(record.publicJwk) as JWK;
          return known ? { ...known, record } : { record, publicJwk };
        });
        this.#loadedAt = this.#now();
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  async #generate(): Promise<SigningKeyRecord> {
    const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const published: JWK = { ...publicJwk, kid, alg: ACCESS_TOKEN_ALG, use: 'sig' };
    return {
      kid,
      alg: ACCESS_TOKEN_ALG,
      publicJwk: JSON.stringify(published),
      privateJwk: this.#seal.seal(JSON.stringify(await exportJWK(privateKey))),
      createdAt: this.#now(),
    };
  }
}

/**
 * How long a retired key stays published: the access-token lifetime, plus the time an instance
 * may go on signing with it before its next reload notices the rotation.
 */
function publishedFor(accessTokenTtl: number): number {
  return accessTokenTtl + 2 * RELOAD_INTERVAL_SECONDS;
}

/** Deletes retired keys no live token can need (also without a key ring: `prune` makes no key). */
export function pruneRetiredKeys(store: SigningKeyStore, accessTokenTtl: number, now: number): Promise<number> {
  return store.deleteRetiredSigningKeys(now - publishedFor(accessTokenTtl));
}

const SEALED_PREFIX = 'aes-256-gcm:';

/** Seals private JWKs at rest with DCR_SIGNING_KEY_SECRET (see the comment at the top). */
class KeySeal {
  readonly #key: Buffer | undefined;

  constructor(secret: string | undefined) {
    this.#key = secret
      ? Buffer.from(hkdfSync('sha256', secret, 'oauth-dcr', 'access-token signing keys', 32))
      : undefined;
  }

  seal(plaintext: string): string {
    if (!this.#key) return plaintext;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${[iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.')}`;
  }

  async open(stored: string): Promise<string> {
    if (!stored.startsWith(SEALED_PREFIX)) return stored;
    if (!this.#key) throw new Error('the signing keys are sealed: set DCR_SIGNING_KEY_SECRET to the secret used');
    const [iv, tag, body] = stored
      .slice(SEALED_PREFIX.length)
      .split('.')
      .map((part) => Buffer.from(part, 'base64url'));
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv!);
    decipher.setAuthTag(tag!);
    try {
      return Buffer.concat([decipher.update(body!), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('DCR_SIGNING_KEY_SECRET does not open the stored signing keys (a different secret?)');
    }
  }
}

import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A Client Attester built in the test with jose: its key signs attestations for instance keys. */
export interface TestAttester {
  id: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeAttester(id: string): Promise<TestAttester> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { id, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: `${id}-key`, alg: 'ES256' } };
}

/** One instance of the app: its key pair, whose public half goes in the attestation's cnf. */
export interface InstanceKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

export async function makeInstanceKey(): Promise<InstanceKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
}

export interface AttestationShape {
  sub: string;
  typ?: string;
  cnf?: JWK;
  iat?: number;
  exp?: number;
  signer?: CryptoKey;
  kid?: string;
}

const now = () => Math.floor(Date.now() / 1000);

export function signAttestation(
  attester: TestAttester,
  instance: InstanceKey,
  shape: AttestationShape,
): Promise<string> {
  const iat = shape.iat ?? now();
  return new SignJWT({ cnf: { jwk: shape.cnf ?? instance.publicJwk } })
    .setProtectedHeader({
      alg: 'ES256',
      typ: shape.typ ?? 'oauth-client-attestation+jwt',
      kid: shape.kid ?? attester.publicJwk.kid!,
    })
    .setIssuer(`https://${attester.id}.example`)
    .setSubject(shape.sub)
    .setIssuedAt(iat)
    .setExpirationTime(shape.exp ?? iat + 3600)
    .sign(shape.signer ?? attester.privateKey);
}

export interface PopShape {
  aud: string | string[];
  typ?: string;
  jti?: string | null;
  iat?: number | null;
  challenge?: string;
  signer?: CryptoKey;
}

export function signPop(instance: InstanceKey, shape: PopShape): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (shape.challenge !== undefined) claims.challenge = shape.challenge;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: shape.typ ?? 'oauth-client-attestation-pop+jwt' })
    .setAudience(shape.aud);
  if (shape.jti !== null) jwt.setJti(shape.jti ?? randomUUID());
  if (shape.iat !== null) jwt.setIssuedAt(shape.iat ?? now());
  return jwt.sign(shape.signer ?? instance.privateKey);
}

/** An unsigned JWT (`alg: none`), as an attacker would send one. */
export function unsignedJwt(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ ...header, alg: 'none' })}.${part(claims)}.`;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, any>;
}

/**
 * A form POST through node:http, whose header values may be arrays: each element is sent as its
 * own header line (fetch would join them into one).
 */
export function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string | string[]> = {},
): Promise<Answer> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: JSON.parse(text) as Record<string, any>,
            });
          } catch {
            reject(new Error(`non-JSON answer ${res.statusCode}: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

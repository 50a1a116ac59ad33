// Scenario c: what one client-secret verification costs when the stored form is a SHA-256 digest
// (what oauth-dcr does, packages/oauth-dcr/src/core/secrets.ts) versus PBKDF2-SHA256 with 600 000 iterations (Django's
// default password hasher, which django-oauth-toolkit applies to client secrets).
import { createHash, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export function measureSecretHashing({ shaIterations = 200_000, pbkdf2Iterations = 5 } = {}) {
  const secret = randomBytes(32).toString('base64url'); // 43 characters, like a real client secret
  const stored = createHash('sha256').update(secret, 'utf8').digest();
  const salt = randomBytes(16);
  const storedKdf = pbkdf2Sync(secret, salt, 600_000, 32, 'sha256');

  // Warm up both paths so the first call's setup is not counted.
  for (let i = 0; i < 1000; i++) timingSafeEqual(createHash('sha256').update(secret, 'utf8').digest(), stored);

  let matches = 0;
  let start = process.hrtime.bigint();
  for (let i = 0; i < shaIterations; i++) {
    if (timingSafeEqual(createHash('sha256').update(secret, 'utf8').digest(), stored)) matches++;
  }
  const shaUs = Number(process.hrtime.bigint() - start) / 1e3 / shaIterations;

  start = process.hrtime.bigint();
  for (let i = 0; i < pbkdf2Iterations; i++) {
    if (timingSafeEqual(pbkdf2Sync(secret, salt, 600_000, 32, 'sha256'), storedKdf)) matches++;
  }
  const pbkdf2Us = Number(process.hrtime.bigint() - start) / 1e3 / pbkdf2Iterations;
  if (matches !== shaIterations + pbkdf2Iterations) throw new Error('verification mismatch');

  return {
    shaIterations,
    pbkdf2Iterations,
    sha256UsPerVerify: shaUs,
    pbkdf2UsPerVerify: pbkdf2Us,
    // Upper bound from hashing alone: one core doing nothing but verifications.
    sha256MaxVerifiesPerCoreSecond: 1e6 / shaUs,
    pbkdf2MaxVerifiesPerCoreSecond: 1e6 / pbkdf2Us,
    pbkdf2OverSha256: pbkdf2Us / shaUs,
  };
}

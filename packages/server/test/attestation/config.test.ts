/**
 * DCR_ATTESTERS and DCR_ATTESTATION_CHALLENGE_SECRET: read and checked at start, the secret
 * masked wherever settings are printed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig, secretValues } from '../../src/config.js';

describe('client attestation settings', () => {
  let dir: string;
  let file: string;
  const SECRET = 'a-challenge-secret-of-at-least-32-characters';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attest-config-'));
    file = join(dir, 'attesters.json');
    await writeFile(
      file,
      JSON.stringify({ attesters: [{ id: 'a', jwks: { keys: [] }, softwareIds: ['s'] }], popMaxAgeSeconds: 120 }),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is off without DCR_ATTESTERS', () => {
    assert.equal(loadConfig({ DCR_STORE: 'memory' }).config.clientAttestation, undefined);
  });

  it('reads the attesters file and the challenge secret, masked in the settings', () => {
    const { config, settings } = loadConfig({
      DCR_STORE: 'memory',
      DCR_ATTESTERS: file,
      DCR_ATTESTATION_CHALLENGE_SECRET: SECRET,
    });
    assert.equal(config.clientAttestation?.options.attesters[0]?.id, 'a');
    assert.equal(config.clientAttestation?.options.popMaxAgeSeconds, 120);
    assert.equal(config.clientAttestation?.challengeSecret, SECRET);
    assert.ok(!JSON.stringify(settings).includes(SECRET), '!JSON.stringify(settings).includes(SECRET)');
    assert.ok(
      secretValues({ DCR_ATTESTATION_CHALLENGE_SECRET: SECRET }).includes(SECRET),
      'secretValues({ DCR_ATTESTATION_CHALLENGE_SECRET: SECRET }).includes(SECRET)',
    );
  });

  it('a missing or malformed file, or a short or lone challenge secret, stops the start', async () => {
    assert.throws(() => loadConfig({ DCR_STORE: 'memory', DCR_ATTESTERS: join(dir, 'nope.json') }), ConfigError);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '[]');
    assert.throws(() => loadConfig({ DCR_STORE: 'memory', DCR_ATTESTERS: bad }), /attesters/);
    assert.throws(
      () => loadConfig({ DCR_STORE: 'memory', DCR_ATTESTERS: file, DCR_ATTESTATION_CHALLENGE_SECRET: 'short' }),
      ConfigError,
    );
    assert.throws(() => loadConfig({ DCR_STORE: 'memory', DCR_ATTESTATION_CHALLENGE_SECRET: SECRET }), ConfigError);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAuditRetention, loadIdleRules } from '../../src/admin/settings.js';

/**
 * The reaper's settings of `oauth-dcr prune`, in the reference server's syntax: DCR_REAP_NEVER_USED
 * / DCR_REAP_UNUSED (flags win) as tier=duration, `off` turning a rule off, a bare duration for
 * the anonymous tier; DCR_AUDIT_RETENTION (or --retention), 0 for forever.
 */
describe('oauth-dcr prune settings', () => {
  const rules: Array<[string, Record<string, string>, Record<string, string>, unknown]> = [
    ['nothing set: the library defaults', {}, {}, {}],
    ['a bare duration is the anonymous tier', {}, { 'never-used': '12h' }, { anonymous: { neverUsedWithin: 43200 } }],
    [
      'several tiers, from the environment',
      { DCR_REAP_NEVER_USED: 'anonymous=2h, initial_access_token=7d', DCR_REAP_UNUSED: 'anonymous=off' },
      {},
      { anonymous: { neverUsedWithin: 7200, unusedFor: false }, initial_access_token: { neverUsedWithin: 604800 } },
    ],
    [
      'a flag wins over the environment',
      { DCR_REAP_UNUSED: 'anonymous=30d' },
      { unused: 'anonymous=60d' },
      { anonymous: { unusedFor: 5184000 } },
    ],
    ['an empty variable is unset', { DCR_REAP_UNUSED: '' }, {}, {}],
    ['the attested tier', { DCR_REAP_UNUSED: 'attested=180d' }, {}, { attested: { unusedFor: 15552000 } }],
  ];
  for (const [name, env, flags, expected] of rules) {
    it(name, () => assert.deepEqual(loadIdleRules(env, flags), expected));
  }

  const refused: Array<[string, Record<string, string>, Record<string, string>, RegExp]> = [
    ['an unknown tier', { DCR_REAP_UNUSED: 'robots=1d' }, {}, /^DCR_REAP_UNUSED: unknown tier "robots"/],
    ['under an hour', {}, { 'never-used': 'anonymous=30m' }, /^--never-used must be a duration of at least one hour/],
    ['not a duration', { DCR_REAP_NEVER_USED: 'anonymous=soon' }, {}, /^DCR_REAP_NEVER_USED must be a duration/],
  ];
  for (const [name, env, flags, message] of refused) {
    it(`refuses ${name}, naming the setting`, () =>
      assert.throws(() => loadIdleRules(env, flags), { name: 'SettingError', message }));
  }

  it('audit retention: a duration of an hour or more, 0 for forever, unset for the default', () => {
    assert.equal(loadAuditRetention({}, {}), undefined);
    assert.equal(loadAuditRetention({ DCR_AUDIT_RETENTION: '30d' }, {}), 2592000);
    assert.equal(loadAuditRetention({ DCR_AUDIT_RETENTION: '30d' }, { retention: '0' }), 0);
    assert.throws(() => loadAuditRetention({ DCR_AUDIT_RETENTION: '10m' }, {}), {
      name: 'SettingError',
      message:
        /^DCR_AUDIT_RETENTION must be a duration of at least one hour, like 24h or 90d, or 0 to keep events forever$/,
    });
  });
});

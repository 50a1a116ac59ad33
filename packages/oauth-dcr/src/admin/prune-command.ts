import type { LifecycleOptions } from '../core/lifecycle-options.js';
import { createRegistration } from '../protocol/create-registration.js';
import { DEFAULT_REAP_BATCH_SIZE, type ReapReport } from '../protocol/idle-reaper.js';
import { type AdminCommandInput, positiveCount, UsageError, withStore } from './command-input.js';
import { loadAuditRetention, loadIdleRules } from './settings.js';

/** A dry run prints this many ids; the count covers all of them. */
const DRY_RUN_LISTED_IDS = 20;

/**
 * `oauth-dcr prune --idle [--dry-run] [--batch N]` runs the idle-client reaper once, as the
 * reference server does on its interval; `oauth-dcr prune --audit` deletes audit events past their
 * retention. Expired codes and tokens live in the reference server's tables: its own `prune` command.
 */
export async function runPruneCommand(input: AdminCommandInput, extra: string | undefined): Promise<void> {
  const { flags } = input;
  if (extra !== undefined) throw new UsageError(`prune takes options only, got ${JSON.stringify(extra)}`);
  if (!flags.idle && !flags.audit) {
    throw new UsageError(
      'prune needs --idle (idle clients) or --audit (old audit events); expired codes and tokens: npx oauth-dcr-server prune',
    );
  }
  if (flags['dry-run'] && !flags.idle) throw new UsageError('--dry-run goes with --idle');
  // Every setting is checked before any database is opened.
  const batchSize = positiveCount('--batch', flags.batch, DEFAULT_REAP_BATCH_SIZE);
  const lifecycle: LifecycleOptions = { idleClients: loadIdleRules(input.env, flags) };
  const auditRetention = loadAuditRetention(input.env, flags);
  if (auditRetention !== undefined) lifecycle.auditRetention = auditRetention;

  return withStore(input, async (store) => {
    const registration = createRegistration({
      store: store.clients,
      ...lifecycle,
      // The reaper's client.reaped events belong in the persisted trail, as the server's do.
      persistAuditEvents: true,
      onError: () => {},
    });
    if (flags.idle) {
      const report = await registration.reapIdleClients({ dryRun: flags['dry-run'] ?? false, batchSize });
      printReport(input, report, flags['dry-run'] ?? false);
    }
    if (flags.audit) {
      const pruned = await registration.pruneAuditEvents();
      input.output.out(
        auditRetention === 0
          ? 'audit events are kept forever (retention 0): none deleted'
          : `audit events deleted: ${pruned}`,
      );
    }
  });
}

function printReport(input: AdminCommandInput, report: ReapReport, dryRun: boolean): void {
  if (input.flags.json) {
    input.output.out(JSON.stringify({ dryRun, ...report }));
    return;
  }
  const tiers = Object.entries(report.byTier);
  if (tiers.length === 0) {
    input.output.out('no tier has an idle rule: nothing to reap');
    return;
  }
  const verb = dryRun ? 'would delete' : 'deleted';
  for (const [tier, count] of tiers) input.output.out(`${tier}: ${verb} ${count}`);
  input.output.out(
    `total: ${verb} ${report.total}${report.truncated ? ' (at least: the dry run stopped counting)' : ''}`,
  );
  if (dryRun && report.clientIds.length > 0) {
    const shown = report.clientIds.slice(0, DRY_RUN_LISTED_IDS);
    input.output.out(`first ids: ${shown.join(' ')}${report.total > shown.length ? ' ...' : ''}`);
  }
}

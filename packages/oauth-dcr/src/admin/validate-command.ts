import { readFile } from 'node:fs/promises';
import { createRegistration, type Registration } from '../protocol/create-registration.js';
import type { ValidationResult, ValidRegistration } from '../protocol/dry-run.js';
import { memoryStore } from '../store/memory.js';
import type { RegistrationVia } from '../store/types.js';
import { OPERATOR_GRANT_TYPES } from './client-commands.js';
import { type AdminCommandInput, CommandFailure, type Output, UsageError } from './command-input.js';
import { loadRegistrationSettings, SettingError } from './settings.js';
import { printable } from './table.js';

/**
 * `oauth-dcr validate <file.json | -> [--tier T] [--json]`: a dry run of registration
 * (`Registration.validate`) on a client's metadata. It needs no database: the registration rules
 * do not read the store, and nothing is stored. The rules are the deployment's, read from the
 * same environment as the reference server's (see loadRegistrationSettings), with the server's
 * token endpoint auth methods and the `admin` tier of `clients create`.
 *
 * Exit codes: 0 the metadata would be registered, 1 it would be refused, 2 a usage or setting error.
 */
export async function runValidateCommand(
  input: AdminCommandInput,
  file: string | undefined,
  extra: string[],
): Promise<void> {
  if (file === undefined) throw new UsageError('validate needs a file of client metadata (JSON), or - for stdin');
  if (extra.length > 0) throw new UsageError(`validate takes one file, got also ${JSON.stringify(extra[0])}`);
  const registration = dryRunRegistration(input.env);
  const tier = input.flags.tier as RegistrationVia | undefined;
  const text = await readMetadata(file, input);
  let result: ValidationResult;
  try {
    result = await registration.validate(text, tier === undefined ? {} : { tier });
  } catch (error) {
    // An unknown tier is the one TypeError validate() throws for its options.
    if (error instanceof TypeError)
      throw new UsageError(`--tier: ${error.message.replace(/^oauth-dcr: validate: /, '')}`);
    throw error;
  }
  if (input.flags.json) input.output.out(JSON.stringify(result, null, 2));
  if (!result.valid) {
    const { error, error_description, pointer } = result.error;
    const where = pointer === undefined ? '' : ` at ${pointer || '(the whole document)'}`;
    throw new CommandFailure(printable(`${error}${where}: ${error_description}`));
  }
  if (!input.flags.json) printValid(result, registration.now(), input.output);
}

/** The registration endpoint as the deployment's settings make it, on a store nothing is written to. */
function dryRunRegistration(env: NodeJS.ProcessEnv): Registration {
  const settings = loadRegistrationSettings(env);
  try {
    return createRegistration({
      ...settings,
      // No request names a host here; the issuer only matters to client assertions, not to metadata.
      issuer: settings.issuer ?? 'http://localhost',
      store: memoryStore(),
      onError: () => {},
      // As the reference server enables them (private_key_jwt beside the secret methods).
      tokenEndpointAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      tiers: { admin: { allowedGrantTypes: [...OPERATOR_GRANT_TYPES] } },
    });
  } catch (error) {
    // The options are checked when the endpoint is created: a bad value came from a setting.
    if (error instanceof TypeError)
      throw new SettingError(error.message.replace(/^oauth-dcr: /, 'registration settings: '));
    throw error;
  }
}

async function readMetadata(file: string, input: AdminCommandInput): Promise<string> {
  if (file === '-') {
    if (!input.stdin) throw new UsageError('validate -: no standard input here');
    const chunks: Buffer[] = [];
    for await (const chunk of input.stdin) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`validate: cannot read ${file}${code ? ` (${code})` : ''}`);
  }
}

function printValid(result: ValidRegistration, now: number, output: Output): void {
  output.out(`valid: a registration in tier ${result.tier} would answer (client_id and credentials aside):`);
  for (const line of JSON.stringify(result.metadata, null, 2).split('\n')) output.out(`  ${printable(line)}`);
  const { stored } = result;
  const secret = !stored.clientSecret
    ? 'none (a public client or a key-based method)'
    : stored.clientSecretExpiresAt === 0
      ? 'issued, never expires'
      : `issued, expires ${stored.clientSecretExpiresAt - now} s after registration`;
  output.out(`client secret: ${secret}`);
  if (result.changes.length === 0) {
    output.out('changes: none, the metadata is kept as sent');
    return;
  }
  output.out('changes:');
  for (const change of result.changes) {
    const from = 'from' in change ? JSON.stringify(change.from) : '(not sent)';
    const to = 'to' in change ? JSON.stringify(change.to) : '(dropped)';
    output.out(printable(`  ${change.field}: ${from} -> ${to}: ${change.reason}`));
  }
}

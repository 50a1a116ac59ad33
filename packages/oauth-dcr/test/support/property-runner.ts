/**
 * How every property test runs, in `npm test` and in `npm run fuzz` alike.
 *
 * A property is an arbitrary (what fast-check generates) and a check (an async function that
 * throws when the rule is broken). `checkProperty`:
 * 1. replays every failure kept in the property's seeds directory: the counterexample itself,
 *    checked as it was found, then its seed and shrink path through fast-check, so a bug once
 *    found stays found even after the arbitraries change;
 * 2. runs fresh cases: `testRuns` in `npm test`, or `FUZZ_RUNS` x `fuzzShare` under `npm run fuzz`
 *    (FUZZ_SEED fixes the seed, to repeat a run);
 * 3. on a failure, writes a seed file (`<property>-<seed>.json`) when FUZZ_RECORD_SEEDS=1 (what
 *    `npm run fuzz` sets), and fails with the seed, the path and the counterexample in the message.
 *    Commit the seed file with the fix: from then on `npm test` replays it every time.
 * With FUZZ_REPORT set to a file, one JSON line per property (name, cases, milliseconds, failed)
 * is appended to it, for scripts/fuzz.mjs to sum up.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

export interface PropertyDefinition<Case> {
  /** Names the property in seed files and reports: letters, digits and dashes. */
  name: string;
  /** What fast-check generates: one case, plain JSON data (so it can be kept in a seed file). */
  arbitrary: fc.Arbitrary<Case>;
  /** Throws (an AssertionError) when the rule is broken for this case. */
  check: (testCase: Case) => Promise<void>;
  /** Fresh cases in `npm test` (keep the file under ~20 s). */
  testRuns: number;
  /** This property's part of FUZZ_RUNS under `npm run fuzz`. */
  fuzzShare: number;
  /** Where this package keeps its seed files. */
  seedsDirectory: string;
}

/** A kept failure, as written to the seeds directory. */
export interface SeedRecord {
  property: string;
  seed: number;
  path: string;
  /** The (shrunk) case that broke the rule, replayed as it is. */
  counterexample: unknown;
  error: string;
  foundAt: string;
}

export function readSeeds(directory: string, property: string): { file: string; record: SeedRecord }[] {
  let names: string[] = [];
  try {
    names = readdirSync(directory).filter((name) => name.startsWith(`${property}-`) && name.endsWith('.json'));
  } catch {
    return [];
  }
  return names.sort().map((name) => ({
    file: join(directory, name),
    record: JSON.parse(readFileSync(join(directory, name), 'utf8')) as SeedRecord,
  }));
}

/** Cases for this run: FUZZ_RUNS x share under `npm run fuzz`, else the test's own count. */
export function runsFor(definition: { testRuns: number; fuzzShare: number }): number {
  const total = Number(process.env.FUZZ_RUNS);
  if (Number.isFinite(total) && total > 0) return Math.max(1, Math.ceil(total * definition.fuzzShare));
  return definition.testRuns;
}

export async function checkProperty<Case>(definition: PropertyDefinition<Case>): Promise<void> {
  const property = fc.asyncProperty(definition.arbitrary, (testCase) => definition.check(testCase));

  for (const { file, record } of readSeeds(definition.seedsDirectory, definition.name)) {
    try {
      await definition.check(record.counterexample as Case);
    } catch (error) {
      throw new Error(`kept counterexample ${file} fails again: ${describe(error)}`, { cause: error });
    }
    const replay = await fc.check(property, { seed: record.seed, path: record.path, endOnFailure: true });
    if (replay.failed)
      throw new Error(
        `kept seed ${file} (seed ${record.seed}, path ${record.path}) fails again: ${describe(replay.errorInstance)}`,
      );
  }

  const numRuns = runsFor(definition);
  const fixedSeed = Number(process.env.FUZZ_SEED);
  const started = performance.now();
  const details = await fc.check(property, {
    numRuns,
    ...(Number.isInteger(fixedSeed) && process.env.FUZZ_SEED ? { seed: fixedSeed } : {}),
  });
  report(definition.name, details.numRuns, performance.now() - started, details.failed);
  if (!details.failed) return;

  const record: SeedRecord = {
    property: definition.name,
    seed: details.seed,
    path: details.counterexamplePath ?? '',
    counterexample: details.counterexample?.[0],
    // The message only: the stack names this machine's paths, and the counterexample says the rest.
    error: details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance),
    foundAt: new Date().toISOString(),
  };
  let kept = 'set FUZZ_RECORD_SEEDS=1 (npm run fuzz does) to keep it as a seed file';
  if (process.env.FUZZ_RECORD_SEEDS === '1') {
    mkdirSync(definition.seedsDirectory, { recursive: true });
    const file = join(definition.seedsDirectory, `${definition.name}-${details.seed}.json`);
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    kept = `kept in ${file}: commit it with the fix`;
  }
  throw new Error(
    `property ${definition.name} broken after ${details.numRuns} cases (seed ${record.seed}, path "${record.path}"; ${kept})\n` +
      `counterexample: ${fc.stringify(record.counterexample)}\n${record.error}`,
    { cause: details.errorInstance },
  );
}

function report(name: string, cases: number, ms: number, failed: boolean): void {
  const file = process.env.FUZZ_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ name, cases, ms: Math.round(ms), failed })}\n`);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

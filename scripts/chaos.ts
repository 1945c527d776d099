/**
 * `npm run chaos [-- --scenario NAME …] [--ci] [--rows N] [--workers N] [--seed N] [--json FILE] [--keep]`:
 * runs batches over the real stack (Temporal dev server, embedded PostgreSQL, the UPS sandbox, worker
 * processes) while each scenario injects its faults, then checks exactly-once from the ledger, the batch
 * result and the sandbox's own record. Exit 0 when every scenario passes, 1 on any breach, 2 on bad arguments.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SCENARIOS } from '../chaos/scenarios';
import { startChaosStack, type ChaosStack } from '../chaos/stack';
import { runScenario, type ScenarioOutcome } from '../chaos/run';
import { breachLines, summaryLine } from '../chaos/report';
import { killEveryWorker } from '../chaos/workers';

const USAGE = `usage: npm run chaos -- [options]
  --scenario NAME   run this scenario (repeatable; default: all): ${SCENARIOS.map((s) => s.name).join(', ')}
  --ci              the small configuration (a few hundred rows, each fault once or a few times)
  --rows N          rows per batch instead of the scenario's
  --workers N       worker processes instead of the scenario's
  --seed N          seed of the fault schedule (default: random, printed)
  --json FILE       write the outcomes as JSON to FILE
  --keep            keep the run's directory (logs, sandbox records) instead of removing it
  --list            list the scenarios and exit
  --help            this text`;

function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value)) fail(`--${name} must be a whole number ≥ 1, got "${value}"`);
  return Number(value);
}

let args;
try {
  args = parseArgs({
    options: {
      scenario: { type: 'string', multiple: true },
      ci: { type: 'boolean' },
      rows: { type: 'string' },
      workers: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      keep: { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (args.list) {
  for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(18)} ${s.description}\n`);
  process.exit(0);
}
const names = args.scenario ?? SCENARIOS.map((s) => s.name);
const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) fail(`--scenario: no scenario named ${unknown.join(', ')}`);
const chosen = SCENARIOS.filter((s) => names.includes(s.name));
const rows = positive('rows', args.rows);
const workers = positive('workers', args.workers);
const seed = args.seed === undefined ? Math.floor(Math.random() * 1e9) : positive('seed', args.seed)!;
const log = (line: string) => process.stderr.write(`chaos: ${line}\n`);

let stack: ChaosStack | undefined;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`${signal}: stopping every process and removing the run's directory`);
    killEveryWorker();
    void (stack?.close(args.keep) ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const started = Date.now();
const outcomes: ScenarioOutcome[] = [];
try {
  stack = await startChaosStack();
  log(`stack up in ${stack.dir} (Temporal ${stack.temporalAddress}); seed ${seed}`);
  for (const [i, scenario] of chosen.entries()) {
    if (interrupted) break;
    const outcome = await runScenario(stack, scenario, {
      ci: args.ci ?? false,
      seed: seed + i,
      rows,
      workers,
      log,
    });
    outcomes.push(outcome);
    process.stdout.write(`${summaryLine(outcome)}\n`);
    if (!outcome.passed) process.stdout.write(`${breachLines(outcome).join('\n')}\n`);
  }
} catch (err) {
  log(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
} finally {
  if (!interrupted) await stack?.close(args.keep);
}
if (args.keep && stack) log(`kept ${stack.dir}`);
const failed = outcomes.filter((o) => !o.passed).length;
process.stdout.write(
  `chaos: ${outcomes.length - failed} of ${chosen.length} scenarios passed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
);
if (args.json) await writeFile(args.json, `${JSON.stringify(outcomes, null, 2)}\n`);
process.exit(failed > 0 || outcomes.length < chosen.length || process.exitCode ? 1 : 0);

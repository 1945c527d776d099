/**
 * Run one scenario on a running chaos stack: its workers, its batch, its schedule of faults; then the
 * checks. Everything the scenario started is stopped whatever happens.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { loadConfig } from '../temporal.config';
import { openPool } from '../db/pool';
import { ShipbatchClient } from '../client/batches';
import { settleBatch, settledRows, startChaosBatch, StuckBatchError } from './batch';
import { checkBatch, faultKindsMissing, type Breach, type CheckFigures } from './checks';
import { plainWorkers, seeded, type Scenario, type ScenarioContext } from './scenario';
import { chaosStackEnv, type ChaosStack } from './stack';
import { WorkerFleet, type FleetFigures } from './workers';

export interface RunOptions {
  ci: boolean;
  seed: number;
  /** Rows of the batch instead of the scenario's. */
  rows?: number;
  /** Workers instead of the scenario's (scenarios whose workers play distinct parts keep theirs). */
  workers?: number;
  /** Print each fault as it is injected. */
  log: (line: string) => void;
}

export interface ScenarioOutcome {
  name: string;
  seed: number;
  batchId?: string;
  passed: boolean;
  wallMs: number;
  fleet: FleetFigures;
  /** Faults the schedule injected (kills and SIGTERMs counted in `fleet`). */
  faults: number;
  checks?: CheckFigures;
  breaches: Breach[];
  /** Worker crash lines and where the logs are. */
  notes: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Write a knobs file so its reader never sees half of it (written aside, renamed over). */
async function writeKnobs(file: string, knobs: object): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify(knobs));
  await rename(`${file}.tmp`, file);
}

export async function runScenario(
  stack: ChaosStack,
  scenario: Scenario,
  opts: RunOptions,
): Promise<ScenarioOutcome> {
  const started = Date.now();
  const dir = path.join(stack.dir, scenario.name);
  const sandboxDir = path.join(dir, 'ups-sandbox');
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const taskQueue = `chaos-${scenario.name}-${randomUUID().slice(0, 6)}`;
  const rows = opts.rows ?? (opts.ci ? scenario.rows.ci : scenario.rows.full);
  const cleanups: (() => Promise<void>)[] = [];
  const outcome: ScenarioOutcome = {
    name: scenario.name,
    seed: opts.seed,
    passed: false,
    wallMs: 0,
    fleet: { kills: 0, terms: 0, restarts: 0, crashes: 0, uncleanStops: 0 },
    faults: 0,
    breaches: [],
    notes: [],
  };
  const env = { ...chaosStackEnv(stack), SHIPBATCH_TASK_QUEUE: taskQueue };
  let pool: pg.Pool | undefined;
  let client: ShipbatchClient | undefined;
  let fleet: WorkerFleet | undefined;
  let closed = false;
  try {
    pool = await openPool({ url: stack.databaseUrl, max: 3, applicationName: 'shipbatch-chaos' });
    client = await ShipbatchClient.connect({ config: loadConfig({ ...process.env, ...env }) });
    const specs =
      opts.workers && !scenario.fixedWorkers
        ? await plainWorkers(opts.workers)()
        : await scenario.workers({ stack, onCleanup: (fn) => cleanups.push(fn) });
    fleet = new WorkerFleet({
      taskQueue,
      sandboxDir,
      logDir,
      env: { ...env, ...scenario.env },
      knobs: scenario.knobs,
      maxActivities: 8,
    });
    const knobsFiles = specs.map((s) => path.join(dir, `knobs-${s.name}.json`));
    for (const [i, s] of specs.entries()) {
      await writeKnobs(knobsFiles[i]!, {});
      fleet.add({ ...s, knobsFile: knobsFiles[i]! });
    }
    const batchId = await startChaosBatch(client, pool, {
      name: scenario.name,
      rows,
      taskQueue,
      concurrency: scenario.concurrency,
    });
    outcome.batchId = batchId;
    opts.log(`${scenario.name}: batch ${batchId}, ${rows} rows, ${specs.length} workers, seed ${opts.seed}`);

    let lastSettled = 0;
    const ctx: ScenarioContext = {
      stack,
      fleet,
      sandboxDir,
      random: seeded(opts.seed),
      ci: opts.ci,
      rows,
      async untilSettled(fraction) {
        while (!closed) {
          lastSettled = (await settledRows(pool!, batchId)) ?? lastSettled;
          if (lastSettled >= fraction * rows) return true;
          await sleep(500);
        }
        return false;
      },
      done: () => closed,
      async setKnobs(knobs, slots) {
        for (const i of slots ?? specs.map((_, n) => n)) await writeKnobs(knobsFiles[i]!, knobs);
      },
      fault(what) {
        outcome.faults++;
        opts.log(
          `${scenario.name}: +${((Date.now() - started) / 1000).toFixed(1)} s, ${lastSettled}/${rows} settled: ${what}`,
        );
      },
      sleep,
      onCleanup: (fn) => cleanups.push(fn),
    };
    let scheduleError: Error | undefined;
    const schedule = scenario.schedule(ctx).catch((err: unknown) => {
      scheduleError = err instanceof Error ? err : new Error(String(err));
    });
    const deadline = Date.now() + (opts.ci ? 8 : 25) * 60_000;
    try {
      const result = await settleBatch(client, batchId, deadline);
      closed = true;
      await schedule;
      if (scheduleError) throw scheduleError;
      const checked = await checkBatch(pool, batchId, result, sandboxDir, scenario.rules);
      outcome.checks = checked.figures;
      outcome.breaches.push(...checked.breaches);
    } catch (err) {
      closed = true;
      if (!(err instanceof StuckBatchError)) throw err;
      outcome.breaches.push({ why: `stuck: ${err.message}` });
    }
    const planned = scenario.planned(opts.ci);
    const f = fleet.figures;
    if (planned.kills !== undefined && f.kills < planned.kills)
      outcome.breaches.push({
        why: `schedule not met: ${f.kills} of ${planned.kills} SIGKILLs before the batch closed`,
      });
    if (planned.terms !== undefined && f.terms < planned.terms)
      outcome.breaches.push({
        why: `schedule not met: ${f.terms} of ${planned.terms} SIGTERMs before the batch closed`,
      });
    const scheduled = outcome.faults - f.kills - f.terms;
    if (planned.faults !== undefined && scheduled < planned.faults)
      outcome.breaches.push({
        why: `schedule not met: ${scheduled} of ${planned.faults} faults before the batch closed`,
      });
    const missing = faultKindsMissing(sandboxDir, planned.upsFaults ?? []);
    if (missing.length > 0)
      outcome.breaches.push({ why: `schedule not met: no ${missing.join(', ')} in the sandbox's call log` });
    if (f.uncleanStops > 0)
      outcome.breaches.push({ why: `${f.uncleanStops} SIGTERMed workers did not exit 0` });
    if (f.crashes > 0) outcome.breaches.push({ why: `${f.crashes} worker processes exited by themselves` });
    outcome.notes.push(...fleet.crashLog);
  } catch (err) {
    outcome.breaches.push({ why: `runner error: ${err instanceof Error ? err.message : String(err)}` });
  } finally {
    closed = true;
    if (fleet) {
      await fleet.stopAll();
      outcome.fleet = { ...fleet.figures };
    }
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    await client?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
  }
  outcome.wallMs = Date.now() - started;
  outcome.passed = outcome.breaches.length === 0;
  return outcome;
}

/**
 * What a chaos scenario is: a batch of generated orders, the workers that ship it, the sandbox's knobs,
 * and a schedule of faults injected while the batch runs. Scenarios are data plus one `schedule` function;
 * the runner (chaos/run.ts) does the rest.
 */
import type { ChaosStack } from './stack';
import type { WorkerFleet, WorkerSpec } from './workers';
import type { CheckRules } from './checks';

/** What a scenario's schedule can see and do. */
export interface ScenarioContext {
  stack: ChaosStack;
  fleet: WorkerFleet;
  /** The data dir every worker's sandbox shares (its shipments and call log). */
  sandboxDir: string;
  /** The run's seeded random numbers in [0, 1). */
  random: () => number;
  /** The small configuration (CI). */
  ci: boolean;
  rows: number;
  /** Resolves once `fraction` of the rows are settled in the ledger; false if the batch closed first. */
  untilSettled(fraction: number): Promise<boolean>;
  /** True once the batch is closed. */
  done(): boolean;
  /** Replace the sandbox knobs of every worker, or of the slots listed (re-read live by their sandboxes). */
  setKnobs(knobs: object, slots?: number[]): Promise<void>;
  /** Count one injected fault and log what it was. */
  fault(what: string): void;
  sleep(ms: number): Promise<void>;
  /** Run `fn` when the scenario ends (success or not). */
  onCleanup(fn: () => Promise<void>): void;
}

export interface Scenario {
  name: string;
  description: string;
  /** Rows of the batch (full and CI configuration). */
  rows: { full: number; ci: number };
  /** The workers: their slots (names, own env); knobs files are added by the runner. */
  workers(ctx: Pick<ScenarioContext, 'stack' | 'onCleanup'>): Promise<Omit<WorkerSpec, 'knobsFile'>[]>;
  /** The workers play distinct parts: `--workers` does not change them. */
  fixedWorkers?: boolean;
  /** Knobs every sandbox starts with (UPS_SANDBOX_KNOBS). */
  knobs: object;
  /** Configuration of every worker (call timeout, grace, sessions…). */
  env: Record<string, string>;
  /** The batch's `concurrency` option. */
  concurrency: number;
  rules: CheckRules;
  /** Inject the faults; resolves when the schedule is complete. */
  schedule(ctx: ScenarioContext): Promise<void>;
  /** The schedule's promise, as text, for the report (e.g. "25 SIGKILLs"), checked against the figures. */
  planned(ci: boolean): {
    kills?: number;
    terms?: number;
    faults?: number;
    /** Fault kinds the sandbox's call log must show (ups-sandbox/knobs.ts names). */
    upsFaults?: readonly string[];
  };
}

/** The latency and call timings most scenarios share: calls of 300–700 ms under a 5 s timeout. */
export const BASE_KNOBS = { latency: { kind: 'uniform', minMs: 300, maxMs: 700 } };
export const BASE_ENV: Record<string, string> = {
  SHIPBATCH_UPS_CALL_TIMEOUT: '5s',
  SHIPBATCH_UPS_RECONCILE_GRACE: '3s',
  SHIPBATCH_UPS_SESSIONS: '2',
};

/**
 * What most scenarios share: three plain workers on the base knobs and timings, batch concurrency 12, and
 * the strict rules (no row may need review; doubtful rows are allowed and reconciled).
 */
export const COMMON = {
  workers: plainWorkers(3),
  knobs: BASE_KNOBS,
  env: BASE_ENV,
  concurrency: 12,
  rules: { reviewWhereUnanswered: false, noAmbiguity: false },
} satisfies Partial<Scenario>;

/** `n` worker slots named `w1…wn` with no configuration of their own. */
export function plainWorkers(n: number): () => Promise<Omit<WorkerSpec, 'knobsFile'>[]> {
  return () => Promise.resolve(Array.from({ length: n }, (_, i) => ({ name: `w${i + 1}` })));
}

/** `n` sorted fractions of the batch drawn in [from, to]: the moments of a schedule, by progress. */
function moments(n: number, random: () => number, from: number, to: number): number[] {
  return Array.from({ length: n }, () => from + random() * (to - from)).sort((a, b) => a - b);
}

/**
 * A schedule's loop: `inject` once at each of `count` seeded moments of the batch's progress in [from, to].
 * It ends early when the batch closes first, or when `inject` returns false (nothing left to break).
 */
export async function atMoments(
  ctx: Pick<ScenarioContext, 'random' | 'untilSettled'>,
  count: number,
  [from, to]: [number, number],
  inject: () => Promise<boolean | void>,
): Promise<void> {
  for (const at of moments(count, ctx.random, from, to)) {
    if (!(await ctx.untilSettled(at))) return;
    if ((await inject()) === false) return;
  }
}

/** A small seeded generator (mulberry32): a run's schedule is reproduced by its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

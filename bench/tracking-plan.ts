/**
 * What `npm run bench tracking` runs (bench/tracking-bench.ts), from BENCH_* variables, and its pure figures:
 * the status each sandbox fate ends in, when a run counts as settled, history events per run.
 */
import { emptyTrackingCounts, type TrackingCounts } from '../domain/tracking';
import type { TrackingFate } from '../ups-sandbox/knobs';

export interface TrackingPlan {
  /** Packages to follow (the batch is sized so that about this many rows ship: 2 % of them are invalid). */
  packages: number;
  /** The UPS latency L (ms, ±20 %) while shipping (0: the fast path) and while tracking. */
  shipLatencyMs: number;
  trackLatencyMs: number;
  sessions: number;
  /** The batch's window while shipping. */
  concurrency: number;
  /** The sandbox's trackingClockSpeed while tracking (simulated seconds per real second). */
  clockSpeed: number;
  /** trackBatch's pollEvery (s), pageSize, eventsPerRun and trackFor (min: the deadline if it never settles). */
  pollEveryS: number;
  pageSize: number;
  eventsPerRun: number;
  trackForMin: number;
}

/** The sandbox's fates drawn per tracking number while tracking (knob trackingExceptions.rates). */
export const TRACKING_RATES: Readonly<Record<Exclude<TrackingFate, 'delivered'>, number>> = {
  exception: 0.01,
  damaged: 0.005,
  delayed: 0.01,
  returned: 0.01,
};

function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a whole number ≥ 0, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * BENCH_PACKAGES (default 10,000), BENCH_UPS_LATENCY_MS (shipping, 0), BENCH_TRACK_LATENCY_MS (50),
 * BENCH_SESSIONS (16), BENCH_CONCURRENCY (32), BENCH_TRACKING_CLOCK_SPEED (4,000: a package's days in transit
 * in a few minutes), BENCH_POLL_EVERY_S (2), BENCH_PAGE_SIZE (500), BENCH_EVENTS_PER_RUN (3,000),
 * BENCH_TRACK_FOR_MIN (30).
 */
export function trackingPlan(env: NodeJS.ProcessEnv): TrackingPlan {
  const plan: TrackingPlan = {
    packages: envInt(env, 'BENCH_PACKAGES', 10_000),
    shipLatencyMs: envInt(env, 'BENCH_UPS_LATENCY_MS', 0),
    trackLatencyMs: envInt(env, 'BENCH_TRACK_LATENCY_MS', 50),
    sessions: envInt(env, 'BENCH_SESSIONS', 16),
    concurrency: envInt(env, 'BENCH_CONCURRENCY', 32),
    clockSpeed: envInt(env, 'BENCH_TRACKING_CLOCK_SPEED', 4_000),
    pollEveryS: envInt(env, 'BENCH_POLL_EVERY_S', 2),
    pageSize: envInt(env, 'BENCH_PAGE_SIZE', 500),
    eventsPerRun: envInt(env, 'BENCH_EVENTS_PER_RUN', 3_000),
    trackForMin: envInt(env, 'BENCH_TRACK_FOR_MIN', 30),
  };
  for (const [name, n] of Object.entries(plan))
    if (n < 1 && !name.endsWith('LatencyMs'))
      throw new Error(`the tracking benchmark's ${name} must be ≥ 1 (BENCH_* variables)`);
  return plan;
}

/** Source rows for `packages` shipped packages: one package a row, 4 of every 200 example orders invalid. */
export function rowsFor(packages: number): number {
  return Math.ceil((packages * 200) / 196);
}

/** Where a package of each fate ends: delivered (a delay too), returned, or left in exception (never final). */
export function finalStatusOf(fate: TrackingFate): 'delivered' | 'returned' | 'exception' {
  if (fate === 'returned') return 'returned';
  if (fate === 'exception' || fate === 'damaged') return 'exception';
  return 'delivered';
}

/** The counts a run ends with when every package reached where its fate leads. */
export function expectedCounts(fates: readonly TrackingFate[]): TrackingCounts {
  const out = emptyTrackingCounts();
  for (const f of fates) out[finalStatusOf(f)] += 1;
  return out;
}

/**
 * Settled: every package where its fate leads (the packages left in exception stay open, so the workflow would
 * go on asking about them until its deadline).
 */
export function settled(counts: TrackingCounts, expected: TrackingCounts): boolean {
  return (Object.keys(expected) as (keyof TrackingCounts)[]).every((s) => counts[s] === expected[s]);
}

/** History events per run: the largest, the mean and the list. */
export function eventsPerRun(runs: readonly number[]): { max: number; mean: number; runs: number } {
  return {
    max: runs.length ? Math.max(...runs) : 0,
    mean: runs.length ? runs.reduce((a, b) => a + b, 0) / runs.length : 0,
    runs: runs.length,
  };
}

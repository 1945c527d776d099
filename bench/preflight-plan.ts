/**
 * What `npm run bench preflight` runs (bench/preflight-bench.ts), from BENCH_* variables so a quick run can
 * shrink it.
 */
import { MAX_PAGE_CONCURRENCY } from '../activities/ups/ask-each';
import { UNBOUND_CALLS_PER_SECOND } from './throughput-plan';

export interface PreflightPlan {
  rows: number;
  /** Mean UPS latency L (ms), spread uniformly ±20 % as in the throughput cases. */
  latencyMs: number;
  sessions: number;
  concurrency: number;
  /** The UPS client's calls-per-second cap R (default: high enough never to bind, as in the throughput cases). */
  callsPerSecond: number;
  maxTransitDays: number;
  /** Approve the preview and ship (and measure that too). */
  ship: boolean;
}

function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a whole number ≥ 0, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * BENCH_ROWS (default 10,000), BENCH_UPS_LATENCY_MS (default 200: the throughput case L = 200 ms, P 16, C 32),
 * BENCH_SESSIONS (16), BENCH_CONCURRENCY (32), BENCH_CALLS_PER_SECOND (unbound), BENCH_MAX_TRANSIT_DAYS (3),
 * BENCH_SHIP=0 to stop at the preview.
 */
export function preflightPlan(env: NodeJS.ProcessEnv): PreflightPlan {
  const plan = {
    rows: envInt(env, 'BENCH_ROWS', 10_000),
    latencyMs: envInt(env, 'BENCH_UPS_LATENCY_MS', 200),
    sessions: envInt(env, 'BENCH_SESSIONS', 16),
    concurrency: envInt(env, 'BENCH_CONCURRENCY', 32),
    callsPerSecond: envInt(env, 'BENCH_CALLS_PER_SECOND', UNBOUND_CALLS_PER_SECOND),
    maxTransitDays: envInt(env, 'BENCH_MAX_TRANSIT_DAYS', 3),
    ship: envInt(env, 'BENCH_SHIP', 1) !== 0,
  };
  for (const [name, n] of Object.entries(plan))
    if (typeof n === 'number' && n < 1 && name !== 'latencyMs')
      throw new Error(`the pre-flight benchmark's ${name} must be ≥ 1 (BENCH_* variables)`);
  return plan;
}

/** The most rows per second a step can settle: a page asks at most 16 rows at a time. */
export const PAGE_IN_FLIGHT = MAX_PAGE_CONCURRENCY;

/**
 * A step's bound, one UPS call per row: min(P, C, 16)/L and R (Infinity at L = 0 with R unbound), and which
 * term binds.
 */
export function stepBound(plan: PreflightPlan): { rowsPerS: number; term: string } {
  const inFlight = Math.min(plan.sessions, plan.concurrency, PAGE_IN_FLIGHT);
  const term =
    inFlight === plan.sessions ? 'P/L' : inFlight === plan.concurrency ? 'C/L' : `${PAGE_IN_FLIGHT}/L`;
  const byLatency = plan.latencyMs > 0 ? inFlight / (plan.latencyMs / 1000) : Infinity;
  return byLatency <= plan.callsPerSecond
    ? { rowsPerS: byLatency, term }
    : { rowsPerS: plan.callsPerSecond, term: 'R' };
}

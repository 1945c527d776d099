/**
 * What `npm run bench` measures, in order: the terms of the bound first (K, S), then shipbatch (b), then the
 * seed's one-row-at-a-time design (c), then the optional large batch (d). Sizes come from BENCH_* variables
 * so a quick run can shrink them; the defaults keep the whole run under 10 minutes on 2 cores.
 */

/** Calls-per-second cap high enough never to bind (R in the bound). */
export const UNBOUND_CALLS_PER_SECOND = 100_000;

/** (a) K: the workflow with a shipRow that returns at once (no ledger, no UPS), window C. */
export interface NoopStep {
  kind: 'noop';
  id: string;
  title: string;
  concurrency: number;
  rows: number;
}

/** (e) S: create_shipment straight through the UPS client to P sandbox sessions, `inFlight` at a time, no latency. */
export interface SandboxStep {
  kind: 'sandbox';
  id: string;
  title: string;
  sessions: number;
  inFlight: number;
  calls: number;
}

/** A real batch: (b) shipbatch, (c) the baseline, (d) the large batch. */
export interface BatchStep {
  kind: 'batch';
  role: 'b' | 'c' | 'd';
  id: string;
  title: string;
  latencyMs: number;
  sessions: number;
  concurrency: number;
  callsPerSecond: number;
  rows: number;
}

export type BenchStep = NoopStep | SandboxStep | BatchStep;

export interface ThroughputPlan {
  steps: BenchStep[];
}

function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a whole number ≥ 0, got ${JSON.stringify(raw)}`);
  return n;
}

/** The run: BENCH_ROWS (default 2,000) rows per shipbatch case, BENCH_HUGE_ROWS (default 0: off) for (d). */
export function throughputPlan(env: NodeJS.ProcessEnv): ThroughputPlan {
  const rows = envInt(env, 'BENCH_ROWS', 2_000);
  const huge = envInt(env, 'BENCH_HUGE_ROWS', 0);
  const sandboxCalls = envInt(env, 'BENCH_SANDBOX_CALLS', 800);
  const R = UNBOUND_CALLS_PER_SECOND;
  const batch = (
    role: BatchStep['role'],
    latencyMs: number,
    sessions: number,
    concurrency: number,
    n: number,
  ): BatchStep => ({
    kind: 'batch',
    role,
    id: `${role}-L${latencyMs}-P${sessions}-C${concurrency}`,
    title: `${role === 'b' ? 'shipbatch' : role === 'c' ? 'baseline, one row at a time' : 'large batch'}: ${n} rows, UPS ${latencyMs} ms, ${sessions} sessions, window ${concurrency}`,
    latencyMs,
    sessions,
    concurrency,
    callsPerSecond: R,
    rows: n,
  });
  const steps: BenchStep[] = [
    { kind: 'noop', id: 'K-C32', title: `no-op ceiling K: ${rows} rows, window 32`, concurrency: 32, rows },
    { kind: 'noop', id: 'K-C50', title: `no-op ceiling K: ${rows} rows, window 50`, concurrency: 50, rows },
    {
      kind: 'sandbox',
      id: 'S-P16',
      title: `sandbox ceiling S: ${sandboxCalls} creates, 16 sessions, 32 in flight`,
      sessions: 16,
      inFlight: 32,
      calls: sandboxCalls,
    },
    {
      kind: 'sandbox',
      id: 'S-P50',
      title: `sandbox ceiling S: ${sandboxCalls} creates, 50 sessions, 50 in flight`,
      sessions: 50,
      inFlight: 50,
      calls: sandboxCalls,
    },
    batch('b', 0, 16, 32, rows),
    batch('b', 200, 16, 32, rows),
    batch('b', 1000, 50, 50, Math.round(rows * 0.75)),
    // The seed's design: the same rows one at a time through the same sandbox (fewer of them: it is slow).
    batch('c', 0, 1, 1, envInt(env, 'BENCH_BASELINE_ROWS_L0', Math.min(rows, 150))),
    batch('c', 200, 1, 1, envInt(env, 'BENCH_BASELINE_ROWS_L200', Math.min(rows, 60))),
    batch('c', 1000, 1, 1, envInt(env, 'BENCH_BASELINE_ROWS_L1000', Math.min(rows, 30))),
  ];
  if (huge > 0) steps.push(batch('d', 0, 16, 32, huge));
  // BENCH_ONLY=b-L0-P16-C32,K-C32 runs those cases alone (while looking into one of them).
  const only = (env.BENCH_ONLY ?? '').split(',').filter(Boolean);
  const unknown = only.filter((id) => !steps.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new Error(
      `BENCH_ONLY: no case ${unknown.join(', ')}; the cases are ${steps.map((s) => s.id).join(', ')}`,
    );
  return {
    steps: steps.filter(
      (s) => (s.kind === 'sandbox' ? s.calls : s.rows) > 0 && (only.length === 0 || only.includes(s.id)),
    ),
  };
}

/** The throughput report: which term of min(C/L, P/L, R, K, S) binds, and the ratios, from measured steps. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchFigures } from '../../bench/batch-run';
import type { CpuSeconds } from '../../bench/cpu';
import type { StepResult } from '../../bench/throughput-bench';
import { throughputPlan } from '../../bench/throughput-plan';
import { formatTable, summarize } from '../../bench/throughput-report';

const cpu = (worker: number): CpuSeconds => ({ worker, sandbox: 0, temporal: 0, postgres: 0, other: 0 });

function batch(windowRowsPerS: number, rows = 1000): BatchFigures {
  return {
    rows,
    concurrency: 32,
    phase: 'completed',
    shipped: rows,
    failed: 0,
    needsReview: 0,
    wallS: rows / windowRowsPerS + 1,
    completed: rows,
    rowsPerS: rows / (rows / windowRowsPerS + 1),
    windowS: rows / windowRowsPerS,
    windowRowsPerS,
    beforeS: 0.5,
    afterS: 0.5,
    p50Ms: 10,
    p99Ms: 20,
    ledgerP50Ms: 5,
    ledgerP99Ms: 9,
    runs: 1,
    maxEventsPerRun: 4000,
    peakRssMb: 400,
    ledgerBytesPerRow: 30_000,
  };
}

test('the binding term is the smallest; ratios use the shipping rate; CPU gives the cores’ ceiling', () => {
  const plan = throughputPlan({ BENCH_ONLY: 'K-C32,S-P16,b-L200-P16-C32,c-L200-P1-C1' });
  assert.deepEqual(
    plan.steps.map((s) => s.id),
    ['K-C32', 'S-P16', 'b-L200-P16-C32', 'c-L200-P1-C1'],
  );
  const [k, s, b, c] = plan.steps;
  const results = new Map<string, StepResult>([
    [k!.id, { step: k as never, batch: batch(300), cpu: cpu(3) }],
    [
      s!.id,
      {
        step: s as never,
        calls: { calls: 800, seconds: 8, perS: 100, p50Ms: 1, p99Ms: 2 },
        startS: 1,
        cpu: cpu(8),
      },
    ],
    // 1000 rows at 60 rows/s while shipping, 25 s of CPU: 25 ms a row, so 2 cores allow 80 rows/s.
    [b!.id, { step: b as never, batch: batch(60), cpu: cpu(25) }],
    [c!.id, { step: c as never, batch: batch(4, 60), cpu: cpu(1) }],
  ]);
  const summary = summarize(plan, results, 2);
  const row = summary.cases.find((x) => x.id === 'b-L200-P16-C32')!;
  // C/L = 160, P/L = 80, R = 100,000, K = 300, S = 100: P/L binds.
  assert.equal(row.bound?.binding, 'sessionsOverLatency');
  assert.equal(row.bound?.rowsPerS, 80);
  assert.equal(row.ofBound, 60 / 80);
  assert.equal(row.ofNoop, 60 / 300);
  assert.equal(row.ofBaseline, 60 / 4);
  assert.equal(row.cpuMsPerRow.worker, 25);
  assert.equal(row.cpuCeilingRowsPerS, 80);
  const table = formatTable(summary);
  assert.match(
    table,
    /\| b-L200-P16-C32 \| 1000 +\| 56\.6 +\| 60\.0 +\|.*\| 80\.0 \(P\/L\) +\| 0\.75 +\| 0\.20 \| 15\.0 \|/,
  );
  assert.match(table, /rows\/s \(whole\) \| rows\/s \(shipping\)/);
  assert.doesNotMatch(table, /undefined|NaN/);
});

test('BENCH_ONLY naming no case is refused with the list of cases', () => {
  assert.throws(
    () => throughputPlan({ BENCH_ONLY: 'b-L5' }),
    /no case b-L5; the cases are K-C32, K-C50, S-P16/,
  );
  assert.throws(() => throughputPlan({ BENCH_ROWS: '-3' }), /BENCH_ROWS must be a whole number/);
});

/**
 * `npm run bench preflight`: a confirm-mode batch of BENCH_ROWS (default 10,000) generated orders with the
 * address pre-flight ('warn') and rate shopping (cheapest within BENCH_MAX_TRANSIT_DAYS = 3) on, at the
 * throughput case's UPS latency (BENCH_UPS_LATENCY_MS, default 200 ms ±20 %, 16 sessions, window 32), up to the
 * preview and then approved and shipped (BENCH_SHIP=0 stops at the preview). Prints rows/s of each step (from
 * the history and from the ledger's timestamps), UPS calls per row per tool (the sandbox's call log), history
 * events and wall times; writes JSON (BENCH_JSON, default .data/bench/preflight-<time>.json). See
 * bench/preflight-bench.ts.
 */
import { writeBenchJson } from '../bench/bench-json';
import os from 'node:os';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { openPool } from '../db/pool';
import { loadConfig } from '../temporal.config';
import { startStack } from '../stack/stack';
import { runPreflightBench, type PreflightFigures } from '../bench/preflight-bench';
import { preflightPlan, stepBound } from '../bench/preflight-plan';
import { formatSteps } from '../bench/preflight-report';

Runtime.install({ logger: new DefaultLogger('WARN') });
const config = loadConfig();
const plan = preflightPlan(process.env);
const started = new Date();
const loadAtStart = os.loadavg()[0]!;
const log = (line: string) => process.stderr.write(`bench preflight: ${line}\n`);
log(
  `${plan.rows} rows, UPS ${plan.latencyMs} ms ±20 %, ${plan.sessions} sessions, window ${plan.concurrency}, ` +
    `addressCheck warn, cheapest within ${plan.maxTransitDays} days${plan.ship ? ', then shipped' : ''}`,
);
const stack = await startStack(config, { ephemeral: true });
let figures: PreflightFigures;
try {
  // As the worker sizes its pool (workers/main.ts): a connection for every activity slot.
  const pool = await openPool({ url: stack.databaseUrl, max: plan.concurrency + 16 });
  try {
    figures = await runPreflightBench(config, stack, pool, plan, log);
  } finally {
    await pool.end();
  }
} finally {
  await stack.stop();
}

const f = figures;
const cpuMsPerRow = (cpu: Record<string, number>, rows: number) =>
  ['worker', 'sandbox', 'temporal', 'postgres']
    .map((k) => (((cpu[k] ?? 0) * 1000) / rows).toFixed(1))
    .join(' · ');
console.log(
  `\npre-flight: ${f.totalRows} rows (${f.validRows} valid), UPS ${plan.latencyMs} ms ±20 %, P ${plan.sessions}, ` +
    `C ${plan.concurrency} (a page of 250 rows per activity, at most 16 calls in flight per page)`,
);
console.log(formatSteps(f.steps));
const bound = stepBound(plan);
console.log(
  `bound per step (one call per row): ${bound.rowsPerS.toFixed(1)} rows/s (${bound.term}); measured ` +
    f.steps.map((s) => `${((100 * s.historyRowsPerS) / bound.rowsPerS).toFixed(0)} %`).join(' and ') +
    ' of it',
);
console.log(
  `to awaiting_approval: ${f.toPreviewS.toFixed(1)} s (load ${f.loadS.toFixed(1)} s before the first page, ` +
    `preview ${f.previewS.toFixed(1)} s after the last); ${f.eventsToPreview} history events in ` +
    `${f.runsToPreview} run(s); CPU ms/row worker · sandbox · Temporal · PostgreSQL ` +
    `${cpuMsPerRow(f.cpuToPreview, f.validRows)}`,
);
console.log(
  `UPS calls to the preview: ${Object.entries(f.callsToPreview)
    .map(([tool, c]) => `${tool} ${c.calls} (${(c.calls / f.validRows).toFixed(3)}/row)`)
    .join(', ')}`,
);
console.log(
  `address outcomes: ${Object.entries(f.addressOutcomes)
    .map(([o, n]) => `${o} ${n}`)
    .join(', ')}` + (f.rateShopping ? `; rate shopping: ${JSON.stringify(f.rateShopping)}` : ''),
);
if (f.shipping) {
  const s = f.shipping;
  console.log(
    `shipping after approval: ${s.phase}, ${s.shipped} shipped, ${s.failed} failed, ${s.needsReview} needs review; ` +
      `${s.wallS.toFixed(1)} s approve → result, shipRow window ${s.windowS.toFixed(1)} s = ` +
      `${s.windowRowsPerS.toFixed(1)} rows/s; ${s.createCallsPerShippedRow.toFixed(3)} creates per shipped row ` +
      `(calls after the preview: ${Object.entries(s.calls)
        .map(([tool, c]) => `${tool} ${c.calls}`)
        .join(', ')}); ${s.eventsTotal} history events in ${s.runsTotal} run(s) in all; CPU ms/row ` +
      `${cpuMsPerRow(s.cpu, Math.max(1, s.shipped))}`,
  );
}
console.log(
  `peak RSS of the worker process ${f.peakRssMb} MB; load average ${loadAtStart.toFixed(2)} at start`,
);

const out = writeBenchJson('preflight', started, {
  loadAverageAtStart: loadAtStart,
  ...f,
});
console.log(`JSON: ${out}`);

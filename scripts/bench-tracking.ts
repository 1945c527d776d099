/**
 * `npm run bench tracking`: BENCH_PACKAGES (default 10,000) packages of a batch shipped in auto mode (UPS at
 * BENCH_UPS_LATENCY_MS, default 0: the fast path; `trackFor: '0s'`), then followed by `trackBatch` (started by
 * hand, pollEvery BENCH_POLL_EVERY_S = 2 s, pages of 500, continue-as-new at 3,000 events) while the sandbox's
 * clock runs BENCH_TRACKING_CLOCK_SPEED (4,000) times real time and UPS answers in BENCH_TRACK_LATENCY_MS
 * (50 ms ±20 %), with exceptions, damage, delays and returns by rate. Prints wall time, looks per second and
 * per package, history events per run and runs, peak worker RSS and the final counts per status; writes JSON
 * (BENCH_JSON, default .data/bench/tracking-<time>.json). See bench/tracking-bench.ts.
 */
import { writeBenchJson } from '../bench/bench-json';
import os from 'node:os';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { openPool } from '../db/pool';
import { loadConfig } from '../temporal.config';
import { startStack } from '../stack/stack';
import { runTrackingBench, type TrackingFigures } from '../bench/tracking-bench';
import { trackingPlan } from '../bench/tracking-plan';

Runtime.install({ logger: new DefaultLogger('WARN') });
const config = loadConfig();
const plan = trackingPlan(process.env);
const started = new Date();
const loadAtStart = os.loadavg()[0]!;
const log = (line: string) => process.stderr.write(`bench tracking: ${line}\n`);
log(
  `${plan.packages} packages; shipped at UPS ${plan.shipLatencyMs} ms, ${plan.sessions} sessions, window ` +
    `${plan.concurrency}; tracked at ${plan.trackLatencyMs} ms ±20 %, clock ×${plan.clockSpeed}, pollEvery ` +
    `${plan.pollEveryS}s, pages of ${plan.pageSize}, continue-as-new at ${plan.eventsPerRun} events`,
);
const stack = await startStack(config, { ephemeral: true });
let f: TrackingFigures;
try {
  const pool = await openPool({ url: stack.databaseUrl, max: plan.concurrency + 16 });
  try {
    f = await runTrackingBench(config, stack, pool, plan, log);
  } finally {
    await pool.end();
  }
} finally {
  await stack.stop();
}
const loadAtEnd = os.loadavg()[0]!;
const list = (c: Record<string, number>) =>
  Object.entries(c)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
// PostgreSQL's CPU is left out: its backends exit with the pool and take their CPU figures with them (in JSON).
const cpuMsPerLook = ['worker', 'sandbox', 'temporal']
  .map((k) => (((f.cpu[k as keyof typeof f.cpu] ?? 0) * 1000) / Math.max(1, f.looks)).toFixed(2))
  .join(' · ');
console.log(
  `\nshipping: ${f.shipping.shipped} of ${f.rows} rows shipped (${f.shipping.failed} failed, ${f.shipping.phase}) ` +
    `in ${f.shipping.wallS.toFixed(1)} s, peak RSS ${f.shipping.peakRssMb} MB`,
);
console.log(
  `tracking ${f.packages} packages; sandbox fates: ${list(f.fates)}; expected end: ${list(f.expected)}`,
);
console.log(
  `${f.ended} after ${f.wallS.toFixed(1)} s (settled: ${f.settled ? 'yes' : 'NO'}); final: ${list(f.final)} ` +
    `(kept counts = a count of the lines: ${f.finalCounted ? 'yes' : 'NO'})`,
);
console.log(
  `track_package: ${f.looks} calls (${f.looksNotOk} not ok) = ${f.looksPerS.toFixed(1)} packages/s looked at, ` +
    `${f.looksPerPackage.toFixed(2)} per package (ledger checks p50 ${f.checksP50}, p99 ${f.checksP99}, max ` +
    `${f.checksMax}); ${f.pages} trackPage activities`,
);
console.log(
  `looks per package by final status (ledger): ${Object.entries(f.looksByStatus)
    .map(([s, v]) => `${s} ${(v.looks / v.packages).toFixed(1)} (${v.looks} looks, ${v.packages} packages)`)
    .join(', ')}`,
);
console.log(
  `history: ${f.runs} run(s), at most ${f.maxEventsPerRun} events per run (mean ${f.meanEventsPerRun.toFixed(0)}, ` +
    `${f.totalEvents} in all; per run ${f.eventsPerRun.join(' ')})`,
);
console.log(
  `peak RSS of the worker process while tracking ${f.peakRssMb} MB; CPU ms per look worker · sandbox · Temporal ` +
    `${cpuMsPerLook}; load average ${loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at end`,
);

const out = writeBenchJson('tracking', started, {
  loadAverageAtStart: loadAtStart,
  loadAverageAtEnd: loadAtEnd,
  ...f,
});
console.log(`JSON: ${out}`);

/**
 * `npm run bench` (the default benchmark): the throughput bound of a batch and shipbatch against it, measured
 * in ONE run on one throw-away stack, so the figures share a machine and its load and their ratios mean
 * something. The bound is min(C/L, P/L, R, K, S) — C the concurrency window, L the UPS latency, P the MCP
 * sessions (one call at a time each, like the real server), R the calls-per-second cap, K the no-op ceiling of
 * Temporal here (same window, a shipRow that does nothing), S the sandbox's own ceiling (label drawing costs
 * CPU) with the same sessions and calls in flight. Cases: see bench/throughput-plan.ts. Prints a table and
 * writes JSON (BENCH_JSON, default .data/bench/throughput-<time>.json). BENCH_HUGE_ROWS=100000 adds the
 * optional large batch.
 */
import { writeBenchJson } from '../bench/bench-json';
import os from 'node:os';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../temporal.config';
import { startStack } from '../stack/stack';
import { ThroughputBench } from '../bench/throughput-bench';
import { formatTable, summarize } from '../bench/throughput-report';
import { throughputPlan } from '../bench/throughput-plan';

Runtime.install({ logger: new DefaultLogger('WARN') });
const config = loadConfig();
const plan = throughputPlan(process.env);
const started = new Date();
const loadAtStart = os.loadavg()[0]!;
const stack = await startStack(config, { ephemeral: true });
const bench = await ThroughputBench.open(config, stack);
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
try {
  for (const step of plan.steps) {
    log(`${step.id}: ${step.title}`);
    await bench.run(step, log);
  }
} finally {
  await bench.close();
  await stack.stop();
}
const summary = summarize(plan, bench.results, os.cpus().length);
console.log(formatTable(summary));
const out = writeBenchJson('throughput', started, {
  loadAverageAtStart: loadAtStart,
  ...summary,
});
console.log(`JSON: ${out}`);

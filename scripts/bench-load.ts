/**
 * Benchmark: the load step of a batch. BENCH_ROWS (default 100,000) generated orders — the
 * 200 example orders repeated, so 2 % of them are invalid — in a source table of a throw-away PostgreSQL;
 * the real `loadBatch` activity code reads them in pages, snapshots them into the ledger and renders +
 * validates each with the example template through the isolated renderer. It runs inside a hand-made
 * activity Context (what `MockActivityEnvironment` of @temporalio/testing does; that package is not
 * installed), so the figure is the activity's own, without workflow overhead.
 * Prints rows/s, peak RSS of the process (the worker's share: renderer isolate included) and the
 * ledger's size. Run: npm run bench load. Goal: ≥ 5,000 rows/s on the 2-core machine.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { asyncLocalStorage, Context, type Info } from '@temporalio/activity';
import { noopMetricMeter } from '@temporalio/common';
import { openPool } from '../db/pool';
import { loadBatch } from '../activities/batch/load';
import { BatchInputSchema } from '../domain/batch';
import { loadConfig } from '../temporal.config';
import { createSourceTable } from '../bench/source-table';
import { startStack } from '../stack/stack';

const N = Number(process.env['BENCH_ROWS'] ?? 100_000);
const root = new URL('../examples/', import.meta.url);

/** Run `fn` as an activity would run: Context.current() works, heartbeats are counted. */
async function asActivity<T>(fn: () => Promise<T>): Promise<{ result: T; heartbeats: number }> {
  let heartbeats = 0;
  const abort = new AbortController();
  const info = {
    activityId: 'bench-load',
    activityType: 'loadBatch',
    attempt: 1,
    isLocal: false,
    heartbeatDetails: undefined,
    taskQueue: 'bench',
    workflowNamespace: 'default',
    workflowExecution: { workflowId: 'batch-bench-load', runId: 'bench' },
    workflowType: 'shipmentBatch',
  } as unknown as Info;
  const ctx = new Context(
    info,
    new Promise<never>(() => undefined),
    abort.signal,
    () => {
      heartbeats++;
    },
    undefined,
    {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    },
    noopMetricMeter,
    { details: undefined },
  );
  const result = await asyncLocalStorage.run(ctx, fn);
  return { result, heartbeats };
}

const config = loadConfig();
const stack = await startStack(config, { ephemeral: true });
const pool = await openPool({ url: stack.databaseUrl, max: 5 });
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);
try {
  const table = 'bench_orders';
  let t = performance.now();
  await createSourceTable(pool, table, N);
  const genMs = performance.now() - t;
  const input = BatchInputSchema.parse({
    source: { table },
    template: readFileSync(new URL('template.njk', root), 'utf8'),
    shipper: JSON.parse(readFileSync(new URL('shipper.json', root), 'utf8')) as unknown,
    mode: 'auto',
  });
  const rssBefore = process.memoryUsage().rss;
  const load = loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  t = performance.now();
  const { result, heartbeats } = await asActivity(() =>
    loadBatch(pool, { batchId: 'batch-bench-load', input }, config.database.statementTimeoutMs),
  );
  const ms = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const { rows } = await pool.query<{ ledger: string; invalid: string }>(
    `SELECT pg_total_relation_size('batch_rows') AS ledger,
            (SELECT count(*) FROM batch_rows WHERE status = 'invalid') AS invalid`,
  );
  if (result.total !== N) throw new Error(`loaded ${result.total} rows, expected ${N}`);
  console.log(
    `load: ${N} rows read, snapshotted, rendered+validated into the ledger in ${(ms / 1000).toFixed(2)} s — ` +
      `${Math.round(N / (ms / 1000))} rows/s (${((cpu.user + cpu.system) / N).toFixed(0)} µs CPU/row in this ` +
      `process; PostgreSQL's CPU is not in it)`,
  );
  console.log(
    `      valid ${result.valid}, invalid ${result.invalid} (ledger says ${rows[0]!.invalid}); ${heartbeats} heartbeats; ` +
      `source table generated in ${(genMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `      peak RSS ${Math.round(peakRss / 1e6)} MB (${Math.round(rssBefore / 1e6)} MB before the load); ledger ` +
      `batch_rows ${Math.round(Number(rows[0]!.ledger) / 1e6)} MB; load average ${load.toFixed(2)} at start`,
  );
} finally {
  clearInterval(sampler);
  await pool.end();
  await stack.stop();
}

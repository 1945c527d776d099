/**
 * Benchmark: a whole auto-mode batch through a real worker in this process, against
 * the UPS sandbox at latency 0 over the configured pool of serial sandbox processes, on a throw-away
 * stack (Temporal dev server + embedded PostgreSQL). Three runs, side by side:
 *   - the batch: BENCH_ROWS rows (default 2,000) at BENCH_CONCURRENCY (default: the batch default, 16);
 *   - a sequential baseline: concurrency 1, BENCH_BASELINE_ROWS rows (default min(BENCH_ROWS, 200));
 *   - a no-op ceiling: the same workflow with a shipRow activity that returns at once (no ledger, no
 *     UPS), BENCH_NOOP_ROWS rows (default min(BENCH_ROWS, 2,000)): what Temporal + the workflow cost alone.
 * Each prints rows/s, per-row latency p50/p99 (history: shipRow scheduled → completed, which includes
 * waiting for an activity slot and a UPS session; ledger: in_flight → shipped, the UPS call and the
 * commit), history events of the largest run, continue-as-new count, peak RSS of this process (the
 * worker: workflows, activities, UPS client; the sandbox processes are children and not in it) and
 * the PostgreSQL size of the ledger and labels. A size of 0 skips a run.
 * The UPS client is the configured one: SHIPBATCH_UPS_SESSIONS (default 4) and
 * SHIPBATCH_UPS_CALLS_PER_SECOND (default 50, a ceiling on rows/s) apply. Run: npm run bench batch.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { loadavg } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import proto, { type temporal } from '@temporalio/proto';
import { createActivities } from '../activities';
import { openPool } from '../db/pool';
import { createUpsClient } from '../activities/ups/from-config';
import type { BatchInputArg, BatchStatus } from '../domain/batch';
import { statusQuery } from '../domain/messages';
import { loadConfig } from '../temporal.config';
import { shipmentBatch } from '../workflows';
import { workflowBundle } from '../workers/create-worker';
import { generateOrders } from './gen-example-orders';
import { startStack } from '../stack/stack';

const envInt = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a whole number ≥ 0, got ${JSON.stringify(raw)}`);
  return n;
};
const N = envInt('BENCH_ROWS', 2_000);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 16);
const BASELINE_ROWS = envInt('BENCH_BASELINE_ROWS', Math.min(N, 200));
const NOOP_ROWS = envInt('BENCH_NOOP_ROWS', Math.min(N, 2_000));
const root = new URL('../examples/', import.meta.url);
const EventType = proto.temporal.api.enums.v1.EventType;

Runtime.install({ logger: new DefaultLogger('WARN') });
const config = loadConfig();
const stack = await startStack(config, { ephemeral: true });
const taskQueue = `bench-batch-${process.pid}`;
const pool = await openPool({ url: stack.databaseUrl, max: 10 });
const connection = await Connection.connect({ address: stack.temporalAddress });
const client = new Client({ connection, namespace: stack.namespace });
const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-bench-batch-ups-'));
const ups = createUpsClient({ ...config.ups, sandboxDataDir: sandboxDir, sandboxKnobsEnv: {} });

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Every run of a batch (following continue-as-new), with its history. */
async function histories(workflowId: string, firstRunId: string) {
  const runs: temporal.api.history.v1.IHistory[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    runs.push(history);
    const last: temporal.api.history.v1.IHistoryEvent | undefined =
      history.events?.[history.events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

/** shipRow scheduled → completed per activity, in ms; and the execution window (first scheduled → last completed). */
function historyLatencies(runs: temporal.api.history.v1.IHistory[]): { sorted: number[]; windowMs: number } {
  const out: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  for (const h of runs) {
    const scheduled = new Map<string, number>();
    for (const e of h.events ?? []) {
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'shipRow') {
          scheduled.set(String(e.eventId), ms(e.eventTime));
          first = Math.min(first, ms(e.eventTime));
        }
      } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const t0 = scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        if (t0 !== undefined) {
          out.push(ms(e.eventTime) - t0);
          last = Math.max(last, ms(e.eventTime));
        }
      }
    }
  }
  return { sorted: out.sort((a, b) => a - b), windowMs: last - first };
}

/** A source table of `n` orders (the 200 example orders repeated; text columns, as a CSV import makes them). */
async function createSourceTable(table: string, n: number): Promise<void> {
  const base = generateOrders();
  const cols = Object.keys(base[0]!);
  const defs = cols.map((c) => `${c} text`).join(', ');
  await pool.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, ${defs}, tracking text)`);
  // The 200 example orders once, then multiplied by generate_series: one round trip, not n.
  await pool.query(
    `CREATE TABLE ${table}_seed AS SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(${defs})`,
    [JSON.stringify(base)],
  );
  await pool.query(
    `INSERT INTO ${table} (${cols.join(', ')})
     SELECT ${cols.map((c) => (c === 'order_id' ? `'ORD-' || (g * 1000 + s.n)` : `s.${c}`)).join(', ')}
       FROM generate_series(0, $1::int - 1) AS g
       CROSS JOIN LATERAL (SELECT seed.*, row_number() OVER () AS n FROM ${table}_seed AS seed) AS s
      WHERE g * ${base.length} + s.n <= $2
      ORDER BY g, s.n`,
    [Math.ceil(n / base.length), n],
  );
  await pool.query(`DROP TABLE ${table}_seed`);
}

async function runBatch(label: string, rows: number, concurrency: number, worker: Worker): Promise<void> {
  const table = `bench_${label.replace(/\W/g, '_')}`;
  await createSourceTable(table, rows);
  const input: BatchInputArg = {
    name: `bench ${label}`,
    source: { table },
    template: readFileSync(new URL('template.njk', root), 'utf8'),
    shipper: JSON.parse(readFileSync(new URL('shipper.json', root), 'utf8')) as BatchInputArg['shipper'],
    mode: 'auto',
    options: { concurrency },
  };
  const workflowId = `batch-bench-${label.replace(/\W/g, '-')}-${process.pid}`;
  peakRss = process.memoryUsage().rss;
  const load = loadavg()[0]!;
  const t0 = performance.now();
  const result = await worker.runUntil(async () => {
    const handle = await client.workflow.start(shipmentBatch, { taskQueue, workflowId, args: [input] });
    const progress = setInterval(() => {
      handle.query(statusQuery).then(
        (s: BatchStatus) =>
          process.stderr.write(
            `  ${label}: ${((performance.now() - t0) / 1000).toFixed(0)} s ${s.phase} shipped ${s.counts.shipped}` +
              `/${s.counts.total - s.counts.invalid} RSS ${Math.round(peakRss / 1e6)} MB\n`,
          ),
        () => undefined,
      );
    }, 60_000);
    try {
      return { result: await handle.result(), runId: handle.firstExecutionRunId };
    } finally {
      clearInterval(progress);
    }
  });
  const wallS = (performance.now() - t0) / 1000;
  const runs = await histories(workflowId, result.runId);
  const events = runs.map((h) => h.events?.length ?? 0);
  const { sorted: hist, windowMs } = historyLatencies(runs);
  const { rows: ledger } = await pool.query<{ ms: number }>(
    `SELECT extract(epoch FROM shipped_at - in_flight_since) * 1000 AS ms FROM batch_rows
      WHERE batch_id = $1 AND status = 'shipped' AND in_flight_since IS NOT NULL ORDER BY 1`,
    [workflowId],
  );
  const ledgerMs = ledger.map((r) => Number(r.ms));
  const { rows: sizes } = await pool.query<{ ledger: string; labels: string }>(
    `SELECT pg_total_relation_size('batch_rows') AS ledger, pg_total_relation_size('labels') AS labels`,
  );
  const c = result.result.counts;
  const mb = (b: string | number) => `${(Number(b) / 1e6).toFixed(1)} MB`;
  console.log(
    `${label}: ${rows} rows, concurrency ${concurrency}: ${result.result.phase} in ${wallS.toFixed(1)} s — ` +
      `${Math.round(rows / wallS)} rows/s (shipped ${c.shipped}, invalid ${c.invalid}, failed ${c.failed}, ` +
      `needs review ${c.needsReview}, pending ${c.pending})`,
  );
  if (hist.length > 0)
    console.log(
      `  execution window (first shipRow scheduled → last completed): ${(windowMs / 1000).toFixed(1)} s — ` +
        `${Math.round(hist.length / (windowMs / 1000))} rows/s; load + preview + close took the rest`,
    );
  console.log(
    `  per row: history p50 ${percentile(hist, 0.5).toFixed(0)} ms p99 ${percentile(hist, 0.99).toFixed(0)} ms` +
      (ledgerMs.length > 0
        ? `; ledger in_flight→shipped p50 ${percentile(ledgerMs, 0.5).toFixed(0)} ms p99 ${percentile(ledgerMs, 0.99).toFixed(0)} ms`
        : ''),
  );
  console.log(
    `  runs ${runs.length} (continue-as-new ${runs.length - 1}), history events per run max ${Math.max(...events)} ` +
      `(total ${events.reduce((a, b) => a + b, 0)}); peak RSS ${Math.round(peakRss / 1e6)} MB; ` +
      `PostgreSQL (all batches so far) batch_rows ${mb(sizes[0]!.ledger)}, labels ${mb(sizes[0]!.labels)}; ` +
      `load average ${load.toFixed(2)} at start`,
  );
}

async function newWorker(noop: boolean): Promise<Worker> {
  const activities = createActivities({
    pool,
    ups,
    workerIdentity: `bench-${process.pid}`,
    statementTimeoutMs: config.database.statementTimeoutMs,
    reconcileGraceMs: config.ups.reconcileGraceMs,
    callTimeoutMs: config.ups.callTimeoutMs,
    recreateAfterGrace: config.ups.recreateAfterGrace,
  });
  return Worker.create({
    connection: nativeConnection,
    namespace: stack.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: noop
      ? {
          ...activities,
          // Ceiling: no ledger write, no UPS call; the row stays pending in the ledger.
          shipRow: (args: { batchId: string; rowNo: number }) =>
            Promise.resolve({ rowNo: args.rowNo, status: 'shipped' as const, costCents: 0 }),
        }
      : activities,
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
  });
}

try {
  console.log(
    `UPS: sandbox at latency 0, pool of ${config.ups.sessions} serial session(s), ` +
      `${config.ups.callsPerSecond ?? 0} calls/s cap; worker: ${config.worker.maxConcurrentActivities} activity slots`,
  );
  if (N > 0) await runBatch(`batch-${N}`, N, CONCURRENCY, await newWorker(false));
  if (BASELINE_ROWS > 0)
    await runBatch(`sequential-${BASELINE_ROWS}`, BASELINE_ROWS, 1, await newWorker(false));
  if (NOOP_ROWS > 0)
    await runBatch(`noop-ceiling-${NOOP_ROWS}`, NOOP_ROWS, CONCURRENCY, await newWorker(true));
} finally {
  clearInterval(sampler);
  await ups.close();
  await nativeConnection.close();
  await connection.close();
  await pool.end();
  await stack.stop();
  rmSync(sandboxDir, { recursive: true, force: true });
}

/**
 * One batch through a running worker, measured: wall time, the shipping window and per-row latency from its
 * history (shipRow scheduled → completed, which includes waiting for an activity slot and a UPS session),
 * the ledger's own in_flight → shipped time, history size per run, continue-as-new count and ledger growth.
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import proto, { type temporal } from '@temporalio/proto';
import type pg from 'pg';
import type { BatchInputArg, BatchStatus } from '../domain/batch';
import { statusQuery } from '../domain/messages';
import { shipmentBatch } from '../workflows';
import { createSourceTable } from './source-table';
import { percentile, type RssSampler } from './stats';

const EventType = proto.temporal.api.enums.v1.EventType;
const examples = new URL('../examples/', import.meta.url);

export interface BatchFigures {
  rows: number;
  concurrency: number;
  phase: string;
  shipped: number;
  failed: number;
  needsReview: number;
  /** Start → result. */
  wallS: number;
  /** shipRow activities completed (rows sent to UPS and settled). */
  completed: number;
  /** Completed rows per second of wall time (load, preview and close included). */
  rowsPerS: number;
  /** First shipRow scheduled → last completed, and completed rows per second of it. */
  windowS: number;
  windowRowsPerS: number;
  /** Workflow started → first shipRow scheduled (load), last shipRow completed → workflow closed. */
  beforeS: number;
  afterS: number;
  /** Per row, from the history: shipRow scheduled → completed. */
  p50Ms: number;
  p99Ms: number;
  /** Per row, from the ledger: in_flight → shipped (the UPS call and its commit). */
  ledgerP50Ms: number;
  ledgerP99Ms: number;
  runs: number;
  maxEventsPerRun: number;
  peakRssMb: number;
  /** Growth of batch_rows + labels (+ their indexes and TOAST) per row of this batch. */
  ledgerBytesPerRow: number;
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Every run of a workflow (following continue-as-new), with its history. */
/** Every run of a workflow so far (following continue-as-new), with its events. */
export async function histories(client: Client, workflowId: string, firstRunId: string) {
  const runs: temporal.api.history.v1.IHistory[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    runs.push(history);
    const last = history.events?.[history.events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

/** The longest wait between two events of the first run before its first row: where a slow start went. */
function longestGapBeforeFirstRow(first: temporal.api.history.v1.IHistory | undefined): {
  ms: number;
  after: string;
  before: string;
} {
  const events = first?.events ?? [];
  // Event ids are per run: the names of this run's activities, by the id of their scheduled event.
  const activityOf = new Map<string, string>();
  for (const e of events) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) activityOf.set(String(e.eventId), name);
  }
  const typeName = (e: temporal.api.history.v1.IHistoryEvent) => {
    const activity =
      e.activityTaskScheduledEventAttributes?.activityType?.name ??
      activityOf.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) ??
      activityOf.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
    return `${EventType[e.eventType ?? 0]?.replace('EVENT_TYPE_', '') ?? '?'}${activity ? ` (${activity})` : ''}`;
  };
  let longest = { ms: 0, after: '', before: '' };
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.activityTaskScheduledEventAttributes?.activityType?.name === 'shipRow') break;
    const gap = ms(events[i]!.eventTime) - ms(events[i - 1]!.eventTime);
    if (gap > longest.ms)
      longest = { ms: gap, after: typeName(events[i - 1]!), before: typeName(events[i]!) };
  }
  return longest;
}

/**
 * shipRow scheduled → completed per activity (ms, ascending), the window first scheduled → last completed, and
 * the time before it (workflow started → first shipRow) and after it (last completed → closed).
 */
function shipRowLatencies(runs: temporal.api.history.v1.IHistory[]): {
  sorted: number[];
  windowMs: number;
  beforeMs: number;
  afterMs: number;
} {
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
  const begin = ms(runs[0]?.events?.[0]?.eventTime);
  const lastRun = runs[runs.length - 1]?.events ?? [];
  const end = ms(lastRun[lastRun.length - 1]?.eventTime);
  return {
    sorted: out.sort((a, b) => a - b),
    windowMs: Math.max(0, last - first),
    beforeMs: first - begin,
    afterMs: end - last,
  };
}

async function ledgerBytes(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ bytes: string }>(
    `SELECT pg_total_relation_size('batch_rows') + pg_total_relation_size('labels') AS bytes`,
  );
  return Number(rows[0]!.bytes);
}

/** Run one auto-mode batch of `rows` generated orders on `worker` (task queue `taskQueue`) and measure it. */
export async function runBenchBatch(opts: {
  client: Client;
  pool: pg.Pool;
  worker: Worker;
  taskQueue: string;
  label: string;
  rows: number;
  concurrency: number;
  rss: RssSampler;
  /** Progress lines while it runs (every 30 s). */
  progress?: (line: string) => void;
}): Promise<BatchFigures> {
  const { client, pool, label, rows, concurrency } = opts;
  const slug = label.replace(/\W+/g, '_').toLowerCase();
  const table = `bench_${slug}`;
  await createSourceTable(pool, table, rows);
  const input: BatchInputArg = {
    name: `bench ${label}`,
    source: { table },
    template: readFileSync(new URL('template.njk', examples), 'utf8'),
    shipper: JSON.parse(readFileSync(new URL('shipper.json', examples), 'utf8')) as BatchInputArg['shipper'],
    mode: 'auto',
    options: { concurrency },
  };
  const workflowId = `batch-bench-${slug.replace(/_/g, '-')}-${process.pid}`;
  const bytesBefore = await ledgerBytes(pool);
  opts.rss.reset();
  const t0 = performance.now();
  const { result, runId } = await opts.worker.runUntil(async () => {
    const handle = await client.workflow.start(shipmentBatch, {
      taskQueue: opts.taskQueue,
      workflowId,
      args: [input],
    });
    const progress = setInterval(() => {
      handle.query(statusQuery).then(
        (s: BatchStatus) =>
          opts.progress?.(
            `${label}: ${((performance.now() - t0) / 1000).toFixed(0)} s ${s.phase}, shipped ` +
              `${s.counts.shipped}/${s.counts.total - s.counts.invalid}, RSS ${opts.rss.peakMb} MB`,
          ),
        () => undefined,
      );
    }, 30_000);
    try {
      return { result: await handle.result(), runId: handle.firstExecutionRunId };
    } finally {
      clearInterval(progress);
    }
  });
  const wallS = (performance.now() - t0) / 1000;
  const runs = await histories(client, workflowId, runId);
  const events = runs.map((h) => h.events?.length ?? 0);
  const { sorted, windowMs, beforeMs, afterMs } = shipRowLatencies(runs);
  const longestGap = longestGapBeforeFirstRow(runs[0]);
  if (longestGap.ms > 2000)
    opts.progress?.(
      `${label}: ${(longestGap.ms / 1000).toFixed(1)} s passed between ${longestGap.after} and ${longestGap.before} before the first row`,
    );
  const { rows: ledger } = await pool.query<{ ms: number }>(
    `SELECT extract(epoch FROM shipped_at - in_flight_since) * 1000 AS ms FROM batch_rows
      WHERE batch_id = $1 AND status = 'shipped' AND in_flight_since IS NOT NULL ORDER BY 1`,
    [workflowId],
  );
  const ledgerMs = ledger.map((r) => Number(r.ms));
  const c = result.counts;
  return {
    rows,
    concurrency,
    phase: result.phase,
    shipped: c.shipped,
    failed: c.failed,
    needsReview: c.needsReview,
    wallS,
    completed: sorted.length,
    rowsPerS: sorted.length / wallS,
    windowS: windowMs / 1000,
    windowRowsPerS: windowMs > 0 ? sorted.length / (windowMs / 1000) : NaN,
    beforeS: beforeMs / 1000,
    afterS: afterMs / 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    ledgerP50Ms: percentile(ledgerMs, 0.5),
    ledgerP99Ms: percentile(ledgerMs, 0.99),
    runs: runs.length,
    maxEventsPerRun: Math.max(...events),
    peakRssMb: opts.rss.peakMb,
    ledgerBytesPerRow: ((await ledgerBytes(pool)) - bytesBefore) / rows,
  };
}

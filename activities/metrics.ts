/**
 * shipbatch's own metrics (docs/design.md §8, README "Metrics"): every name, label and bucket is defined here
 * once, so the worker, the docs and the Grafana dashboard (`ops/grafana/shipbatch.json`, checked against this
 * list by test/unit/metrics.test.ts) cannot drift apart.
 *
 * They are recorded on the Temporal runtime's meter (`Runtime.instance().metricMeter`, see workers/main.ts),
 * so with `SHIPBATCH_METRICS_ADDRESS` set they appear on the same Prometheus endpoint as the SDK's own
 * `temporal_*` metrics, without that prefix; counters get `_total` there. Without a meter (unit tests,
 * in-process test workers) {@link NO_METRICS} records nothing.
 *
 * Labels carry only the batch id, the UPS tool, an outcome or a row status: never row data or secrets.
 */
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';

type Kind = 'counter' | 'histogram' | 'gauge';

interface MetricDefinition {
  /** The name as created on the meter (a counter is exported with `_total` added). */
  name: string;
  kind: Kind;
  labels: readonly string[];
  help: string;
  /** Histogram bucket bounds (ms); the runtime's default (50 … 10,000) is too coarse for these. */
  buckets?: readonly number[];
}

/** Every metric shipbatch records. */
export const METRICS = {
  rows: {
    name: 'shipbatch_rows',
    kind: 'counter',
    labels: ['batch', 'status'],
    help: 'Row outcomes recorded in the ledger (status shipped, failed or needs_review), once per outcome, not per attempt',
  },
  upsCalls: {
    name: 'shipbatch_ups_calls',
    kind: 'counter',
    labels: ['tool', 'outcome'],
    help: 'UPS MCP tool calls by tool and outcome (ok, or the UPS error category)',
  },
  upsCallDuration: {
    name: 'shipbatch_ups_call_duration_ms',
    kind: 'histogram',
    labels: ['tool', 'outcome'],
    help: 'UPS MCP call time in ms, from when the request leaves (after the session wait and pacing) to the answer',
    buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000],
  },
  upsSessionWait: {
    name: 'shipbatch_ups_session_wait_ms',
    kind: 'histogram',
    labels: [],
    help: 'Time in ms a UPS call waited for a free session of the pool',
    buckets: [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000],
  },
  upsSessionsBusy: {
    name: 'shipbatch_ups_sessions_busy',
    kind: 'gauge',
    labels: [],
    help: 'UPS sessions carrying a call right now',
  },
  upsSessions: {
    name: 'shipbatch_ups_sessions',
    kind: 'gauge',
    labels: [],
    help: 'UPS sessions in the pool (SHIPBATCH_UPS_SESSIONS)',
  },
  templateRender: {
    name: 'shipbatch_template_render_ms',
    kind: 'histogram',
    labels: [],
    help: 'Template render + validation time per row in ms (a page of rows rendered in the isolate, divided by its rows)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 125, 250],
  },
} as const satisfies Record<string, MetricDefinition>;

/** Row statuses counted by `shipbatch_rows_total`. */
export type CountedRowStatus = 'shipped' | 'failed' | 'needs_review';

/** The series names a Prometheus scrape shows for a metric (a histogram's `_bucket`, `_sum`, `_count`). */
export function scrapedNames(def: MetricDefinition): string[] {
  if (def.kind === 'counter') return [`${def.name}_total`];
  if (def.kind === 'histogram') return ['_bucket', '_sum', '_count'].map((s) => `${def.name}${s}`);
  return [def.name];
}

/** Every series name shipbatch's metrics appear under in a scrape. */
export function allScrapedNames(): Set<string> {
  return new Set(Object.values(METRICS).flatMap((d: MetricDefinition) => scrapedNames(d)));
}

/** The runtime's `histogramBucketOverrides` for shipbatch's histograms. */
export function histogramBuckets(): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const d of Object.values(METRICS) as MetricDefinition[]) if (d.buckets) out[d.name] = [...d.buckets];
  return out;
}

/** What the activities, the UPS client and its session pool record. */
export interface ShipbatchMetrics {
  /** `n` rows of `batchId` reached `status` in the ledger. */
  rowOutcome(batchId: string, status: CountedRowStatus, n?: number): void;
  /** One UPS call answered or failed: `outcome` is `ok` or the UpsError category. */
  upsCall(tool: string, outcome: string, durationMs: number): void;
  /** How long a call waited for a free session. */
  sessionWait(ms: number): void;
  /** Sessions busy now and the pool's size. */
  sessions(busy: number, size: number): void;
  /** A page of `rows` rows rendered in `ms`. */
  templateRendered(rows: number, ms: number): void;
}

/** The metrics on `meter` (the Temporal runtime's, in the worker process). */
export function createMetrics(meter: MetricMeter): ShipbatchMetrics {
  const m = METRICS;
  const rows = meter.createCounter(m.rows.name, undefined, m.rows.help);
  const calls = meter.createCounter(m.upsCalls.name, undefined, m.upsCalls.help);
  const callMs = meter.createHistogram(m.upsCallDuration.name, 'float', undefined, m.upsCallDuration.help);
  const waitMs = meter.createHistogram(m.upsSessionWait.name, 'float', undefined, m.upsSessionWait.help);
  const busy = meter.createGauge(m.upsSessionsBusy.name, 'int', undefined, m.upsSessionsBusy.help);
  const size = meter.createGauge(m.upsSessions.name, 'int', undefined, m.upsSessions.help);
  const renderMs = meter.createHistogram(m.templateRender.name, 'float', undefined, m.templateRender.help);
  return {
    rowOutcome(batch, status, n = 1) {
      if (n > 0) rows.add(n, { batch, status });
    },
    upsCall(tool, outcome, durationMs) {
      calls.add(1, { tool, outcome });
      callMs.record(Math.max(0, durationMs), { tool, outcome });
    },
    sessionWait(ms) {
      waitMs.record(Math.max(0, ms));
    },
    sessions(nowBusy, poolSize) {
      busy.set(nowBusy);
      size.set(poolSize);
    },
    templateRendered(n, ms) {
      // One value per row, so the histogram's count is rows rendered and its sum the time they took.
      const perRow = Math.max(0, ms) / Math.max(1, n);
      for (let i = 0; i < n; i++) renderMs.record(perRow);
    },
  };
}

/** Records nothing: the default wherever no meter is given. */
export const NO_METRICS: ShipbatchMetrics = createMetrics(noopMetricMeter);

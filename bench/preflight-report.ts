/**
 * The pre-flight benchmark's figures from what a batch leaves behind (pure: no I/O): each step's window from
 * the workflow history (first page activity scheduled → last completed), UPS calls per tool from the sandbox's
 * call log, and the printed table.
 */
import proto, { type temporal } from '@temporalio/proto';
import type { CallLogEntry } from '../ups-sandbox/call-log';

const EventType = proto.temporal.api.enums.v1.EventType;

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One activity type's activities in a history: how many, and first scheduled → last completed. */
export interface ActivitySpan {
  activities: number;
  /** Activities that completed (the others failed, timed out or were cancelled). */
  completed: number;
  /** Epoch ms; NaN when there was none. */
  firstScheduledMs: number;
  lastCompletedMs: number;
  /** lastCompletedMs - firstScheduledMs, in seconds (0 when there was none). */
  seconds: number;
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/**
 * The span of each of `names` over the runs' events (event ids are per run, so each run is read on its own).
 * Retries of one activity are one activity (Temporal records a scheduled event once, its last attempt).
 */
export function activitySpans(
  runs: readonly (readonly HistoryEvent[])[],
  names: readonly string[],
): Record<string, ActivitySpan> {
  const out: Record<string, ActivitySpan> = {};
  for (const n of names)
    out[n] = { activities: 0, completed: 0, firstScheduledMs: NaN, lastCompletedMs: NaN, seconds: 0 };
  for (const events of runs) {
    const nameOf = new Map<string, string>();
    for (const e of events) {
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
        const span = out[name];
        if (!span) continue;
        nameOf.set(String(e.eventId), name);
        span.activities += 1;
        const t = ms(e.eventTime);
        if (!(t >= span.firstScheduledMs)) span.firstScheduledMs = t;
      } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const name = nameOf.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        const span = name === undefined ? undefined : out[name];
        if (!span) continue;
        span.completed += 1;
        const t = ms(e.eventTime);
        if (!(t <= span.lastCompletedMs)) span.lastCompletedMs = t;
      }
    }
  }
  for (const span of Object.values(out))
    span.seconds =
      Number.isFinite(span.firstScheduledMs) && Number.isFinite(span.lastCompletedMs)
        ? (span.lastCompletedMs - span.firstScheduledMs) / 1000
        : 0;
  return out;
}

/** Calls per tool in a call log, with how many were answered with an error (or faulted, or hung). */
export function callsPerTool(
  entries: readonly CallLogEntry[],
): Record<string, { calls: number; notOk: number }> {
  const out: Record<string, { calls: number; notOk: number }> = {};
  for (const e of entries) {
    const c = (out[e.tool] ??= { calls: 0, notOk: 0 });
    c.calls += 1;
    if (e.outcome !== 'ok') c.notOk += 1;
  }
  return out;
}

/** One step of the run, as printed. */
export interface StepFigures {
  step: string;
  /** The activity type whose span this is. */
  activity: string;
  /** Rows the step settled (the ledger's count of rows with its timestamp). */
  rows: number;
  /** From the history: first page scheduled → last page completed. */
  historyS: number;
  historyRowsPerS: number;
  /**
   * From the ledger: the step's timestamp min → max, and the rows stored after the first store per second of
   * it (a page's rows share one timestamp, so the first page's rows are not in that time).
   */
  ledgerS: number;
  ledgerRowsPerS: number;
  activities: number;
  /** UPS calls of the step's tool, per row the batch holds (invalid rows are not asked about). */
  tool: string;
  calls: number;
  callsPerRow: number;
  notOk: number;
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** The table the benchmark prints: one line per step. */
export function formatSteps(steps: readonly StepFigures[]): string {
  const head = [
    'step',
    'rows',
    'activities',
    's (history)',
    'rows/s',
    's (ledger)',
    'rows/s (ledger)',
    'UPS tool',
    'calls/row',
  ];
  const lines = steps.map((s) => [
    s.step,
    String(s.rows),
    String(s.activities),
    fmt(s.historyS),
    fmt(s.historyRowsPerS),
    fmt(s.ledgerS),
    fmt(s.ledgerRowsPerS),
    s.notOk > 0 ? `${s.tool} (${s.notOk} not ok)` : s.tool,
    fmt(s.callsPerRow, 3),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [row(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...lines.map(row)].join('\n');
}

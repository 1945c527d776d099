/** The pre-flight benchmark's pure parts: its plan from BENCH_*, the step bound, spans from history, calls per tool. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import proto, { type temporal } from '@temporalio/proto';
import { preflightPlan, stepBound } from '../../bench/preflight-plan';
import { activitySpans, callsPerTool, formatSteps } from '../../bench/preflight-report';
import { UNBOUND_CALLS_PER_SECOND } from '../../bench/throughput-plan';
import type { CallLogEntry } from '../../ups-sandbox/call-log';

const EventType = proto.temporal.api.enums.v1.EventType;
type Event = temporal.api.history.v1.IHistoryEvent;

// Built as decoded history is (Long ids and seconds), not as plain numbers.
const event = (o: Record<string, unknown>): Event => proto.temporal.api.history.v1.HistoryEvent.fromObject(o);
const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
const scheduled = (eventId: number, name: string, ms: number): Event =>
  event({
    eventId,
    eventTime: at(ms),
    eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    activityTaskScheduledEventAttributes: { activityType: { name } },
  });
const completed = (eventId: number, scheduledEventId: number, ms: number): Event =>
  event({
    eventId,
    eventTime: at(ms),
    eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    activityTaskCompletedEventAttributes: { scheduledEventId },
  });
const failed = (eventId: number, scheduledEventId: number, ms: number): Event =>
  event({
    eventId,
    eventTime: at(ms),
    eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    activityTaskFailedEventAttributes: { scheduledEventId },
  });

test('the plan: 10,000 rows at L = 200 ms, P 16, C 32, R unbound, ≤ 3 days, shipped; BENCH_* override it', () => {
  assert.deepEqual(preflightPlan({}), {
    rows: 10_000,
    latencyMs: 200,
    sessions: 16,
    concurrency: 32,
    callsPerSecond: UNBOUND_CALLS_PER_SECOND,
    maxTransitDays: 3,
    ship: true,
  });
  const quick = preflightPlan({ BENCH_ROWS: '1000', BENCH_SHIP: '0', BENCH_UPS_LATENCY_MS: '0' });
  assert.equal(quick.rows, 1000);
  assert.equal(quick.ship, false);
  assert.equal(quick.latencyMs, 0);
  assert.throws(() => preflightPlan({ BENCH_ROWS: '1e3x' }), /BENCH_ROWS must be a whole number/);
  assert.throws(() => preflightPlan({ BENCH_ROWS: '0' }), /rows must be ≥ 1/);
});

test('the step bound: min(P, C, 16 per page)/L, or R when that is lower', () => {
  const plan = preflightPlan({});
  assert.deepEqual(stepBound(plan), { rowsPerS: 80, term: 'P/L' });
  assert.deepEqual(stepBound({ ...plan, sessions: 50, concurrency: 50, latencyMs: 1000 }), {
    rowsPerS: 16,
    term: '16/L',
  });
  assert.deepEqual(stepBound({ ...plan, concurrency: 8 }), { rowsPerS: 40, term: 'C/L' });
  assert.deepEqual(stepBound({ ...plan, callsPerSecond: 50 }), { rowsPerS: 50, term: 'R' });
  assert.deepEqual(stepBound({ ...plan, latencyMs: 0 }), {
    rowsPerS: UNBOUND_CALLS_PER_SECOND,
    term: 'R',
  });
});

test('spans: first scheduled → last completed per activity type, across runs whose event ids restart', () => {
  const run1: Event[] = [
    scheduled(5, 'loadBatch', 0),
    completed(6, 5, 400),
    scheduled(7, 'checkAddressPage', 500),
    completed(8, 7, 3500),
    scheduled(9, 'checkAddressPage', 3600),
    failed(10, 9, 3700),
  ];
  // The second run reuses event ids 5–8 for other activities: they must not be matched with the first run's.
  const run2: Event[] = [
    scheduled(5, 'checkAddressPage', 4000),
    completed(6, 5, 7000),
    scheduled(7, 'shopRatesPage', 7100),
    completed(8, 7, 9100),
  ];
  const spans = activitySpans([run1, run2], ['checkAddressPage', 'shopRatesPage', 'shipRow']);
  assert.deepEqual(spans.checkAddressPage, {
    activities: 3,
    completed: 2,
    firstScheduledMs: 500,
    lastCompletedMs: 7000,
    seconds: 6.5,
  });
  assert.equal(spans.shopRatesPage!.seconds, 2);
  assert.equal(spans.shopRatesPage!.activities, 1);
  assert.equal(spans.shipRow!.activities, 0);
  assert.equal(spans.shipRow!.seconds, 0);
  assert.ok(Number.isNaN(spans.shipRow!.firstScheduledMs));
  assert.equal(spans.loadBatch, undefined, 'only the activity types asked for');
});

test('calls per tool, with the ones not answered ok', () => {
  const entry = (tool: string, outcome: CallLogEntry['outcome']): CallLogEntry => ({
    at: '2026-01-01T00:00:00Z',
    pid: 1,
    tool,
    outcome,
    ms: 200,
  });
  assert.deepEqual(
    callsPerTool([
      entry('validate_address', 'ok'),
      entry('validate_address', 'error'),
      entry('rate_shipment', 'ok'),
      entry('rate_shipment', 'fault'),
      entry('rate_shipment', 'ok'),
    ]),
    { validate_address: { calls: 2, notOk: 1 }, rate_shipment: { calls: 3, notOk: 1 } },
  );
});

test('the table: one line per step, the tool named with its failed calls', () => {
  const table = formatSteps([
    {
      step: 'address check',
      activity: 'checkAddressPage',
      rows: 9800,
      historyS: 130.4,
      historyRowsPerS: 75.15,
      ledgerS: 127,
      ledgerRowsPerS: 75.2,
      activities: 40,
      tool: 'validate_address',
      calls: 9802,
      callsPerRow: 1.0002,
      notOk: 2,
    },
  ]).split('\n');
  assert.equal(table.length, 3);
  assert.match(table[0]!, /^\| step +\| rows \| activities \|/);
  assert.match(
    table[2]!,
    /^\| address check \| 9800 \| +40 \| +130\.4 \| +75\.2 \| +127\.0 \| +75\.2 \| validate_address \(2 not ok\) \| +1\.000 \|$/,
  );
});

/** The tracking benchmark's pure parts: its plan from BENCH_*, where each fate ends, when a run is settled. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  eventsPerRun,
  expectedCounts,
  finalStatusOf,
  rowsFor,
  settled,
  trackingPlan,
} from '../../bench/tracking-plan';
import { emptyTrackingCounts } from '../../domain/tracking';

test('the plan: 10,000 packages shipped at L = 0, tracked at 50 ms, clock ×4,000, poll 2 s; BENCH_* override it', () => {
  assert.deepEqual(trackingPlan({}), {
    packages: 10_000,
    shipLatencyMs: 0,
    trackLatencyMs: 50,
    sessions: 16,
    concurrency: 32,
    clockSpeed: 4_000,
    pollEveryS: 2,
    pageSize: 500,
    eventsPerRun: 3_000,
    trackForMin: 30,
  });
  const small = trackingPlan({
    BENCH_PACKAGES: '1000',
    BENCH_TRACK_LATENCY_MS: '0',
    BENCH_EVENTS_PER_RUN: '',
  });
  assert.equal(small.packages, 1000);
  assert.equal(small.trackLatencyMs, 0);
  assert.equal(small.eventsPerRun, 3_000);
  assert.throws(() => trackingPlan({ BENCH_PACKAGES: '0' }), /packages must be ≥ 1/);
  assert.throws(
    () => trackingPlan({ BENCH_POLL_EVERY_S: '1.5' }),
    /BENCH_POLL_EVERY_S must be a whole number/,
  );
});

test('rows for n packages: 2 % of the generated orders are invalid', () => {
  assert.equal(rowsFor(196), 200);
  assert.equal(rowsFor(10_000), 10_205);
});

test('where each sandbox fate ends, and a run settles only when every package is there', () => {
  assert.equal(finalStatusOf('delivered'), 'delivered');
  assert.equal(finalStatusOf('delayed'), 'delivered');
  assert.equal(finalStatusOf('returned'), 'returned');
  assert.equal(finalStatusOf('exception'), 'exception');
  assert.equal(finalStatusOf('damaged'), 'exception');
  const expected = expectedCounts(['delivered', 'delayed', 'returned', 'damaged', 'exception']);
  assert.deepEqual(expected, { ...emptyTrackingCounts(), delivered: 2, returned: 1, exception: 2 });
  // A returned package passes through an exception: counts that match in total but not per status are not settled.
  const midway = { ...emptyTrackingCounts(), delivered: 2, exception: 3 };
  assert.equal(settled(midway, expected), false);
  assert.equal(
    settled({ ...emptyTrackingCounts(), delivered: 1, in_transit: 1, returned: 1, exception: 2 }, expected),
    false,
  );
  assert.equal(settled({ ...expected }, expected), true);
});

test('events per run: max, mean, runs', () => {
  assert.deepEqual(eventsPerRun([3010, 3004, 116]), { max: 3010, mean: 2043.3333333333333, runs: 3 });
  assert.deepEqual(eventsPerRun([]), { max: 0, mean: 0, runs: 0 });
});

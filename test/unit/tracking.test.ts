/**
 * After the label: how UPS Tracking's answer becomes a package's status, how soon it is asked again, the
 * tracking input's limits, and the reading of a Track API body (dates, location, delivery date).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  nextCheckAfterMs,
  rowDeliveryStatus,
  TrackingInputSchema,
  trackingStatusOf,
  trackingWorkflowId,
  type TrackingStatus,
} from '../../domain/tracking';
import { normalizeTrackResponse } from '../../activities/ups/normalize';

test('UPS status types and words map onto the ledger statuses', () => {
  const cases: [string, string, string][] = [
    ['M', 'Shipper created a label, UPS has not received the package yet.', 'label_created'],
    ['P', 'Pickup Scan', 'in_transit'],
    ['I', 'Arrived at Facility', 'in_transit'],
    ['I', 'Out For Delivery Today', 'out_for_delivery'],
    ['O', 'Out For Delivery', 'out_for_delivery'],
    ['D', 'DELIVERED', 'delivered'],
    ['X', 'THE ADDRESS IS INCORRECT', 'exception'],
    ['X', 'Returned to sender', 'returned'],
    ['RS', 'Returned to Shipper', 'returned'],
    ['MV', 'Voided Information Received', 'voided'],
    ['X', 'Voided Information Received', 'voided'],
    ['', '', 'unknown'],
    ['ZZ', 'something new', 'unknown'],
  ];
  for (const [type, words, want] of cases)
    assert.equal(trackingStatusOf(type, words), want, `${type} ${words}`);
});

test('a package is asked again sooner when something happens soon, never once it is final', () => {
  const hour = 3_600_000;
  assert.equal(nextCheckAfterMs('in_transit', 4 * hour), 4 * hour);
  assert.equal(nextCheckAfterMs('label_created', 4 * hour), 4 * hour);
  assert.equal(nextCheckAfterMs('out_for_delivery', 4 * hour), hour);
  assert.equal(nextCheckAfterMs('exception', 4 * hour), 2 * hour);
  assert.equal(nextCheckAfterMs('out_for_delivery', 1000), 1000, 'at least a second');
  for (const s of ['delivered', 'returned', 'voided'] as const)
    assert.equal(nextCheckAfterMs(s, hour), undefined);
});

test('a long exception is asked less and less often: from half the base, doubling, up to a day or eight bases', () => {
  const hour = 3_600_000;
  /** The waits chosen by `looks` looks in a row that all find the package in exception. */
  const waits = (baseMs: number, looks: number, before?: { status: TrackingStatus; lastWaitMs?: number }) => {
    const out: number[] = [];
    let last = before;
    for (let i = 0; i < looks; i++) {
      const wait = nextCheckAfterMs('exception', baseMs, last)!;
      out.push(wait);
      last = { status: 'exception', lastWaitMs: wait };
    }
    return out;
  };
  // Every 4 h: 2 h, 4 h, 8 h, 16 h, then a day.
  assert.deepEqual(
    waits(4 * hour, 7, { status: 'in_transit', lastWaitMs: 4 * hour }),
    [2, 4, 8, 16, 24, 24, 24].map((h) => h * hour),
  );
  // A short base (the benchmark's 2 s, a test's 1 s): eight bases at most; never under a second.
  assert.deepEqual(waits(2000, 6), [1000, 2000, 4000, 8000, 16_000, 16_000]);
  assert.deepEqual(waits(1000, 5), [1000, 2000, 4000, 8000, 8000]);
  // A base over two days: half of it every time (no shorter than the first wait, never backed off past it).
  assert.deepEqual(waits(72 * hour, 3), [36 * hour, 36 * hour, 36 * hour]);
  // The first look to find the exception, or one without a wait behind it (never looked at), starts over.
  for (const status of ['label_created', 'in_transit', 'out_for_delivery', 'unknown'] as const)
    assert.equal(
      nextCheckAfterMs('exception', 4 * hour, { status, lastWaitMs: 16 * hour }),
      2 * hour,
      status,
    );
  assert.equal(nextCheckAfterMs('exception', 4 * hour, { status: 'exception' }), 2 * hour);
  // A wait shorter than the first one (a base changed) is brought back up to it.
  assert.equal(nextCheckAfterMs('exception', 4 * hour, { status: 'exception', lastWaitMs: 1000 }), 2 * hour);
  // Leaving the exception ends the back-off: the package's own status decides.
  const long = { status: 'exception' as const, lastWaitMs: 24 * hour };
  assert.equal(nextCheckAfterMs('in_transit', 4 * hour, long), 4 * hour);
  assert.equal(nextCheckAfterMs('out_for_delivery', 4 * hour, long), hour);
  assert.equal(nextCheckAfterMs('delivered', 4 * hour, long), undefined);
});

test("a row's delivery status from its packages: exception, returned, else the least advanced", () => {
  const cases: [TrackingStatus[], TrackingStatus][] = [
    [['delivered'], 'delivered'],
    [['delivered', 'delivered', 'delivered'], 'delivered'],
    [['delivered', 'out_for_delivery'], 'out_for_delivery'],
    [['out_for_delivery', 'in_transit', 'delivered'], 'in_transit'],
    [['in_transit', 'label_created'], 'label_created'],
    [['label_created'], 'label_created'],
    [['delivered', 'unknown'], 'unknown'],
    // Any package in exception is the row's exception, whatever the others (a return included).
    [['delivered', 'exception'], 'exception'],
    [['returned', 'exception', 'delivered'], 'exception'],
    [['delivered', 'returned'], 'returned'],
    [['in_transit', 'returned'], 'returned'],
    // A voided package says nothing of the others; every one voided is a voided row.
    [['voided', 'delivered'], 'delivered'],
    [['voided', 'in_transit', 'delivered'], 'in_transit'],
    [['voided', 'voided'], 'voided'],
    [['voided', 'exception'], 'exception'],
    [[], 'unknown'],
  ];
  for (const [packages, want] of cases) assert.equal(rowDeliveryStatus(packages), want, packages.join(', '));
  // The packages' order does not matter.
  assert.equal(rowDeliveryStatus(['in_transit', 'delivered', 'label_created']), 'label_created');
  assert.equal(rowDeliveryStatus(['label_created', 'delivered', 'in_transit']), 'label_created');
});

test('the tracking input: defaults, limits, strictness; the workflow id derives from the batch id', () => {
  const input = TrackingInputSchema.parse({ batchId: 'batch-spring' });
  assert.deepEqual(input, {
    batchId: 'batch-spring',
    trackFor: '14d',
    pollEvery: '4h',
    pageSize: 500,
    eventsPerRun: 3000,
  });
  for (const bad of [
    { batchId: 'spring' },
    { batchId: 'batch-x', trackFor: '400d' },
    { batchId: 'batch-x', pollEvery: '500ms' },
    { batchId: 'batch-x', pageSize: 0 },
    { batchId: 'batch-x', eventsPerRun: 5000 },
    { batchId: 'batch-x', extra: 1 },
  ])
    assert.ok(!TrackingInputSchema.safeParse(bad).success, JSON.stringify(bad));
  assert.equal(trackingWorkflowId('batch-spring'), 'tracking-batch-spring');
});

test('a Track API body: the newest activity gives type, time and place; a delivery date when delivered', () => {
  const body = {
    trackResponse: {
      shipment: [
        {
          package: [
            {
              trackingNumber: '1ZA1B2C30312345678',
              currentStatus: { description: 'Delivered', code: '011' },
              deliveryDate: [{ type: 'DEL', date: '20261207' }],
              activity: [
                {
                  status: { type: 'D', description: 'DELIVERED', code: 'KB', statusCode: '011' },
                  date: '20261207',
                  time: '143005',
                  location: { address: { city: 'PORTLAND', stateProvince: 'OR', countryCode: 'US' } },
                },
                { status: { type: 'I', description: 'Departed' }, date: '20261206', time: '010000' },
              ],
            },
          ],
        },
      ],
    },
  };
  assert.deepEqual(normalizeTrackResponse(body), {
    trackingNumber: '1ZA1B2C30312345678',
    status: 'Delivered',
    statusCode: '011',
    type: 'D',
    at: '2026-12-07T14:30:05.000Z',
    location: 'PORTLAND, OR, US',
    deliveredOn: '2026-12-07',
  });
  // Junk dates are left out, not turned into NaN.
  const junk = structuredClone(body);
  const pkg = junk.trackResponse.shipment[0]!.package[0]!;
  pkg.activity[0]!.date = '2026-12-07';
  pkg.deliveryDate = [{ type: 'DEL', date: 'soon' }];
  const read = normalizeTrackResponse(junk);
  assert.equal(read.at, undefined);
  assert.equal(read.deliveredOn, undefined);
});

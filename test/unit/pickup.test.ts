/**
 * The batch's pickup, piece by piece: the option's checks (hostile values named, nothing thrown), the default
 * date, the request built from the shipper (the Pickup API's limits), UPS's answers read (a list or a single
 * object, junk skipped), the classifier's pickup codes, and malformed durations refused rather than thrown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchInputSchema, BatchOptionsSchema, describeIssues } from '../../domain/batch';
import { defaultPickupDate, PickupOptionSchema } from '../../domain/pickup';
import { pickupAddressKey, pickupRequestOf } from '../../activities/batch/pickup';
import { readPendingPickups, readPickupCreation, readPickupRate } from '../../activities/ups/pickup';
import { classifyToolError } from '../../activities/ups/errors';
import { SHIPPER, TEMPLATE } from '../helpers/batch';

const issues = (raw: unknown) => {
  const r = PickupOptionSchema.safeParse(raw);
  return r.success ? 'ok' : describeIssues(r.error);
};

test('option pickup: times of day, a real date, a window of an hour; anything else refused with a reason', () => {
  assert.equal(issues({ readyTime: '09:00', closeTime: '17:00' }), 'ok');
  assert.equal(issues({ date: '2028-02-29', readyTime: '09:00', closeTime: '10:00' }), 'ok');
  assert.match(issues({ readyTime: '09:00', closeTime: '09:59' }), /at least 60 minutes/);
  assert.match(issues({ readyTime: '17:00', closeTime: '09:00' }), /at least 60 minutes/);
  assert.match(issues({ readyTime: '9:00', closeTime: '17:00' }), /time of day/);
  assert.match(issues({ readyTime: '24:00', closeTime: '25:00' }), /time of day/);
  assert.match(issues({ readyTime: "09:00'; DROP TABLE x;--", closeTime: '17:00' }), /time of day/);
  assert.match(issues({ date: '2027-02-29', readyTime: '09:00', closeTime: '17:00' }), /calendar date/);
  assert.match(issues({ date: '2027-13-01', readyTime: '09:00', closeTime: '17:00' }), /calendar date/);
  assert.match(issues({ date: '20271201', readyTime: '09:00', closeTime: '17:00' }), /date such as/);
  assert.match(issues({ readyTime: '09:00', closeTime: '17:00', prn: 'X' }), /prn|Unrecognized/i);
  assert.match(issues({ readyTime: '09:00' }), /closeTime/);
  assert.equal(issues({ readyTime: '09:00', closeTime: '17:00', timeZone: 'America/Chicago' }), 'ok');
  assert.match(
    issues({ readyTime: '09:00', closeTime: '17:00', timeZone: 'Mars/Olympus' }),
    /IANA time zone/,
  );
  assert.match(
    issues({ readyTime: '09:00', closeTime: '17:00', timeZone: 'x'.repeat(100) }),
    /64|too big|at most/i,
  );
});

test('a pickup needs the shipper’s phone: the batch input says so', () => {
  const input = {
    source: { table: 'orders' },
    template: TEMPLATE,
    shipper: { ...SHIPPER, Phone: undefined },
    options: { pickup: { readyTime: '09:00', closeTime: '17:00' } },
  };
  const r = BatchInputSchema.safeParse(input);
  assert.equal(r.success, false);
  assert.match(describeIssues(r.error), /Phone\.Number/);
  assert.equal(BatchInputSchema.safeParse({ ...input, shipper: SHIPPER }).success, true);
});

test('malformed durations are refused with the format, never thrown (trackFor, trackEvery, approvalTimeout)', () => {
  for (const o of [{ trackFor: '2w' }, { trackEvery: 'soon' }, { approvalTimeout: '1y' }, { trackFor: '' }]) {
    const r = BatchOptionsSchema.safeParse(o);
    assert.equal(r.success, false, JSON.stringify(o));
    assert.match(describeIssues(r.error), /expected a duration/);
  }
});

test('default pickup date: today in the pickup place while its close is an hour or more away on a weekday, else the next weekday', () => {
  // 2026-12-07 is a Monday.
  assert.equal(defaultPickupDate(new Date('2026-12-07T08:00:00Z'), '17:00'), '2026-12-07');
  assert.equal(defaultPickupDate(new Date('2026-12-07T17:00:00Z'), '17:00'), '2026-12-08');
  assert.equal(
    defaultPickupDate(new Date('2026-12-07T16:01:00Z'), '17:00'),
    '2026-12-08',
    'less than the lead time left',
  );
  assert.equal(defaultPickupDate(new Date('2026-12-07T16:00:00Z'), '17:00'), '2026-12-07');
  // Austin at 12:30 local (18:30 UTC): still today there; Los Angeles at 09:30 local too.
  assert.equal(defaultPickupDate(new Date('2026-12-07T18:30:00Z'), '17:00', 'America/Chicago'), '2026-12-07');
  assert.equal(
    defaultPickupDate(new Date('2026-12-07T17:30:00Z'), '17:00', 'America/Los_Angeles'),
    '2026-12-07',
  );
  // Tokyo on Tuesday 20:00 local (11:00 UTC): its close has passed, so Wednesday there.
  assert.equal(defaultPickupDate(new Date('2026-12-08T11:00:00Z'), '17:00', 'Asia/Tokyo'), '2026-12-09');
  // Sunday evening in Chicago is Monday in UTC: Monday (Chicago's next weekday).
  assert.equal(defaultPickupDate(new Date('2026-12-07T02:00:00Z'), '17:00', 'America/Chicago'), '2026-12-07');
  assert.equal(
    defaultPickupDate(new Date('2026-12-11T18:00:00Z'), '17:00'),
    '2026-12-14',
    'Friday evening → Monday',
  );
  assert.equal(
    defaultPickupDate(new Date('2026-12-12T08:00:00Z'), '17:00'),
    '2026-12-14',
    'Saturday → Monday',
  );
});

test('the request from the shipper: the Pickup API’s forms and limits', () => {
  const long = {
    ...SHIPPER,
    AttentionName: 'Receiving and Shipping Department',
    Address: { ...SHIPPER.Address, PostalCode: '78744-1234' },
  };
  const r = pickupRequestOf(
    long,
    { date: '2026-12-08', readyTime: '09:00', closeTime: '17:30' },
    { packages: 1500, weightLbs: '2250.5', serviceCode: '3' },
  );
  assert.equal(r.pickupDate, '20261208');
  assert.deepEqual([r.readyTime, r.closeTime], ['0900', '1730']);
  assert.equal(r.postalCode, '78744', 'no ZIP+4');
  assert.equal(r.contactName.length, 22);
  assert.equal(r.quantity, 999, 'UPS takes at most 999 pieces per request');
  assert.equal(r.serviceCode, '003');
  assert.equal(r.accountNumber, SHIPPER.ShipperNumber);
  assert.equal(r.addressLine, '1200 Industrial Blvd Dock 4');
  // The same place written differently is the same pickup point.
  assert.equal(
    pickupAddressKey({
      ...SHIPPER,
      Address: { ...SHIPPER.Address, AddressLine: [' 1200  industrial blvd', 'dock 4'], City: 'AUSTIN' },
    }),
    pickupAddressKey(SHIPPER),
  );
});

test('UPS’s answers read: charges, PRNs, pending lists (one object or many; junk skipped)', () => {
  assert.deepEqual(
    readPickupRate({
      PickupRateResponse: { RateResult: { GrandTotalOfAllCharge: '7.48', CurrencyCode: 'USD' } },
    }),
    { cents: 748, currency: 'USD' },
  );
  assert.throws(() => readPickupRate({ PickupRateResponse: {} }), /GrandTotalOfAllCharge/);
  assert.deepEqual(readPickupCreation({ PickupCreationResponse: { PRN: '2929abcd123' } }), {
    prn: '2929ABCD123',
  });
  assert.throws(() => readPickupCreation({ PickupCreationResponse: { PRN: '../../etc' } }), /PRN/);
  assert.deepEqual(
    readPendingPickups({
      PickupPendingStatusResponse: {
        PendingStatus: { PickupType: '01', ServiceDate: '20261208', PRN: 'AB1', ContactName: 'Dock' },
      },
    }),
    [{ prn: 'AB1', date: '20261208', contactName: 'Dock' }],
  );
  assert.deepEqual(
    readPendingPickups({
      PickupPendingStatusResponse: {
        PendingStatus: [
          { PickupType: '02', ServiceDate: '20261208', PRN: 'SMART' },
          { PickupType: '01', ServiceDate: 'tomorrow', PRN: 'BAD' },
          'junk',
          { PickupType: '01', ServiceDate: '20261209', PRN: 'cd2' },
        ],
      },
    }),
    [{ prn: 'CD2', date: '20261209' }],
  );
  assert.deepEqual(readPendingPickups({ PickupPendingStatusResponse: {} }), []);
  // No status response at all is not "no pickups": the reconcile must not conclude anything from it.
  assert.throws(() => readPendingPickups({}), /without PickupPendingStatusResponse/);
  assert.throws(() => readPendingPickups('Service Unavailable'), /without PickupPendingStatusResponse/);
  // A PRN that is not one (markup, paths) is skipped: it is never stored, shown or cancelled.
  assert.deepEqual(
    readPendingPickups({
      PickupPendingStatusResponse: {
        PendingStatus: [{ PickupType: '01', ServiceDate: '20261208', PRN: '[X](HTTPS://EVIL)\n# HI' }],
      },
    }),
    [],
  );
});

test('classifier: the Pickup API’s codes, and a lost schedule_pickup answer is ambiguous', () => {
  const ups = (code: string) =>
    `Error executing tool schedule_pickup: ${JSON.stringify({
      status_code: 400,
      code: '400',
      message: 'x',
      details: { response: { errors: [{ code, message: 'm' }] } },
    })}`;
  const of = (code: string) => {
    const e = classifyToolError('cancel_pickup', ups(code));
    return [e.category, e.errorClass];
  };
  assert.deepEqual(of('9510113'), ['already_cancelled', 'definitive']);
  assert.deepEqual(of('9510112'), ['not_found', 'definitive']);
  for (const code of ['9510114', '9560131', '9560133', '9560134'])
    assert.deepEqual(of(code), ['pickup', 'definitive']);
  const lost = classifyToolError(
    'schedule_pickup',
    'Error executing tool schedule_pickup: {"code": "REQUEST_ERROR", "message": "Read timed out."}',
    true,
  );
  assert.equal(lost.errorClass, 'ambiguous');
});

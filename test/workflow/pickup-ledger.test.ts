/**
 * The pickup's activities on the real ledger and sandbox, without a workflow: the sequences a batch rarely
 * meets but must survive. A cancel finds a pickup whose schedule answer was lost (the ledger knows only that a
 * request left) and cancels it at UPS; two batches sharing a PRN let go of it at once: exactly one cancel at UPS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { BatchInputSchema } from '../../domain/batch';
import { upsertBatch } from '../../db/ledger/batches';
import { getPickup, markPickupScheduled, notePickupRequestSent, openPickup } from '../../db/ledger/pickup';
import {
  cancelPickup,
  pickupAddressKey,
  pickupRequestOf,
  schedulePickup,
} from '../../activities/batch/pickup';
import { defaultPickupDate } from '../../domain/pickup';
import { readCallLog } from '../../ups-sandbox/call-log';
import { readPickups } from '../../ups-sandbox/pickups';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { SHIPPER, TEMPLATE, weekdayAhead } from '../helpers/batch';

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('pickup-ledger');
});
after(async () => {
  await env?.close();
});

/** A weekday from 3 days ahead, another one per call: each test's pickups are on their own date. */
const usedDates = new Set<string>();
let nextDay = 3;
const when = () => {
  let date: string;
  do date = weekdayAhead(nextDay++);
  while (usedDates.has(date));
  usedDates.add(date);
  return { date, readyTime: '09:00', closeTime: '17:00' };
};

/**
 * A batch in the ledger with the option pickup (`option`, default: `pickup` itself), one shipped row of one
 * 2-lb package, and its pickup row opened for `pickup` (nothing asked of UPS yet) unless `open` is false.
 */
async function ledgerBatchWithPickup(
  pickup: ReturnType<typeof when>,
  opts: { option?: object; open?: boolean } = {},
): Promise<string> {
  const batchId = `batch-tpl-${randomUUID().slice(0, 8)}`;
  const input = BatchInputSchema.parse({
    source: { table: 'orders' },
    template: TEMPLATE,
    shipper: SHIPPER,
    options: { pickup: opts.option ?? pickup },
  });
  await upsertBatch(env.pool, batchId, input);
  await env.pool.query(
    `INSERT INTO batch_rows (batch_id, row_no, source_key, data, checksum, status, reference, request)
     VALUES ($1, 1, 'k1', '{}', 'c', 'shipped', $1 || '-1', $2)`,
    [
      batchId,
      {
        ShipmentRequest: {
          Shipment: {
            Service: { Code: '03' },
            Package: [{ PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: '2' } }],
          },
        },
      },
    ],
  );
  if (opts.open !== false) {
    await openPickup(env.pool, batchId, {
      ...pickup,
      addressKey: pickupAddressKey(SHIPPER),
      account: SHIPPER.ShipperNumber,
    });
  }
  return batchId;
}

const knobs = (sbx: { knobsFile: string }, k: object) => writeFileSync(sbx.knobsFile, JSON.stringify(k));
const toolCalls = (dataDir: string, tool: string) => readCallLog(dataDir).filter((c) => c.tool === tool);

const signal = new AbortController().signal;

test('cancel after a schedule whose answer was lost: the pickup is found at UPS and cancelled there', async () => {
  const sbx = env.sandboxClient('pickup-lost-cancel');
  const pickup = when();
  const batchId = await ledgerBatchWithPickup(pickup);
  // The request left (counted) and UPS made the pickup; its answer never came back.
  await notePickupRequestSent(env.pool, batchId);
  const made = await sbx.ups.schedulePickup(
    pickupRequestOf(SHIPPER, pickup, { packages: 2, weightLbs: '4.0' }),
  );
  assert.equal((await getPickup(env.pool, batchId))?.state, 'pending');

  const r = await cancelPickup(env.pool, sbx.ups, { batchId }, signal);
  assert.equal(r.problem, undefined);
  assert.equal(r.pickup?.state, 'cancelled');
  assert.equal(r.pickup?.prn, made.prn);
  assert.ok(readPickups(sbx.dataDir).find((p) => p.prn === made.prn)?.cancelledAt, 'cancelled at UPS');
  // A second cancel (a retry) asks UPS nothing more.
  await cancelPickup(env.pool, sbx.ups, { batchId }, signal);
  assert.equal(readCallLog(sbx.dataDir).filter((c) => c.tool === 'cancel_pickup').length, 1);
});

test('cancel when no request ever left: nothing asked of UPS; a late schedule attempt then sends nothing', async () => {
  const sbx = env.sandboxClient('pickup-never');
  const batchId = await ledgerBatchWithPickup(when());
  const r = await cancelPickup(env.pool, sbx.ups, { batchId }, signal);
  assert.equal(r.pickup?.state, 'cancelled');
  assert.deepEqual(readCallLog(sbx.dataDir), [], 'UPS was not asked');
  // An attempt of the schedule that was still queued somewhere (a worker cut off) comes late: nothing leaves.
  const late = await schedulePickup(env.pool, sbx.ups, { batchId }, signal);
  assert.equal(late?.state, 'cancelled');
  assert.deepEqual(toolCalls(sbx.dataDir, 'schedule_pickup'), []);
  assert.deepEqual(readPickups(sbx.dataDir), []);
});

test('a pickup the account had before the batch asked is never taken for the batch’s own after a lost answer', async () => {
  const sbx = env.sandboxClient('pickup-seen');
  const pickup = when();
  // Another warehouse of the same account and contact, booked elsewhere (not in this ledger), same day.
  const other = await sbx.ups.schedulePickup(
    pickupRequestOf({ ...SHIPPER, Address: { ...SHIPPER.Address, AddressLine: ['500 Other St'] } }, pickup, {
      packages: 1,
      weightLbs: '1.0',
    }),
  );
  const batchId = await ledgerBatchWithPickup(pickup);
  knobs(sbx, { rules: [{ fault: 'timeout_after_create', tool: 'schedule_pickup', times: 1 }] });
  await assert.rejects(schedulePickup(env.pool, sbx.ups, { batchId }, signal), /REQUEST_ERROR|timed out/i);
  const own = readPickups(sbx.dataDir).find((p) => p.prn !== other.prn);
  assert.ok(own, 'UPS made the batch’s pickup, the answer was lost');
  const r = await schedulePickup(env.pool, sbx.ups, { batchId }, signal);
  assert.equal(r?.prn, own.prn, 'its own, not the one the account already had');
  assert.deepEqual(
    toolCalls(sbx.dataDir, 'schedule_pickup').map((c) => c.outcome),
    ['ok', 'fault'],
    'the other warehouse’s request, then the batch’s one (lost): not asked again',
  );
  assert.deepEqual((await getPickup(env.pool, batchId))?.seenBefore, [other.prn]);
});

test('after a request may have left, a failed look at UPS is retried, never taken for a refusal', async () => {
  const sbx = env.sandboxClient('pickup-look-fails');
  const batchId = await ledgerBatchWithPickup(when());
  await notePickupRequestSent(env.pool, batchId);
  knobs(sbx, { rules: [{ fault: 'invalid_request', tool: 'get_pickup_status', times: 1 }] });
  await assert.rejects(schedulePickup(env.pool, sbx.ups, { batchId }, signal));
  assert.equal((await getPickup(env.pool, batchId))?.state, 'pending', 'not failed: the pickup may exist');
  const r = await schedulePickup(env.pool, sbx.ups, { batchId }, signal);
  assert.equal(r?.state, 'scheduled');
});

test('a default date whose day is over while nothing was made at UPS moves to the pickup place’s next day', async () => {
  const sbx = env.sandboxClient('pickup-moved');
  const pickup = { ...when(), date: '2026-01-05' };
  const batchId = await ledgerBatchWithPickup(pickup, {
    // East of UTC: the place's today is never before the sandbox's (UTC) today.
    option: { readyTime: '00:00', closeTime: '23:59', timeZone: 'Asia/Tokyo' },
  });
  const r = await schedulePickup(env.pool, sbx.ups, { batchId }, signal);
  const expected = defaultPickupDate(new Date(), '23:59', 'Asia/Tokyo');
  assert.equal(r?.state, 'scheduled', JSON.stringify(r));
  assert.equal(r?.date, expected);
  assert.equal(readPickups(sbx.dataDir)[0]?.pickupDate, expected.replaceAll('-', ''));
});

test('a cancel UPS refuses leaves the pickup scheduled with the reason, still this batch’s', async () => {
  const sbx = env.sandboxClient('pickup-cancel-refused');
  const pickup = when();
  const batchId = await ledgerBatchWithPickup(pickup);
  const r1 = await schedulePickup(env.pool, sbx.ups, { batchId }, signal);
  assert.equal(r1?.state, 'scheduled');
  knobs(sbx, { rules: [{ fault: 'invalid_request', tool: 'cancel_pickup', times: 1 }] });
  const r = await cancelPickup(env.pool, sbx.ups, { batchId }, signal);
  assert.match(r.problem ?? '', /not cancelled/);
  assert.equal(r.pickup?.state, 'scheduled');
  assert.match(r.pickup?.error ?? '', /not cancelled/);
  assert.equal(readPickups(sbx.dataDir)[0]?.cancelledAt, undefined);
});

test('a batch letting go while another batch’s request for the same address and date is on its way keeps the PRN', async () => {
  const sbx = env.sandboxClient('pickup-inflight');
  const pickup = when();
  const a = await ledgerBatchWithPickup(pickup);
  const b = await ledgerBatchWithPickup(pickup);
  const made = await schedulePickup(env.pool, sbx.ups, { batchId: a }, signal);
  // B's request has left (counted), its answer not back yet: UPS will merge it into A's PRN.
  await notePickupRequestSent(env.pool, b);
  const r = await cancelPickup(env.pool, sbx.ups, { batchId: a }, signal);
  assert.equal(r.pickup?.state, 'released');
  assert.deepEqual(r.pickup?.sharedWith, [b]);
  assert.deepEqual(toolCalls(sbx.dataDir, 'cancel_pickup'), [], 'B may need it');
  assert.equal(readPickups(sbx.dataDir).find((p) => p.prn === made?.prn)?.cancelledAt, undefined);
});

test('two batches holding one PRN let go at the same moment: the last one out cancels, exactly once', async () => {
  const sbx = env.sandboxClient('pickup-race');
  const pickup = when();
  const made = await sbx.ups.schedulePickup(
    pickupRequestOf(SHIPPER, pickup, { packages: 1, weightLbs: '2.0' }),
  );
  const ids = [await ledgerBatchWithPickup(pickup), await ledgerBatchWithPickup(pickup)];
  for (const id of ids) await markPickupScheduled(env.pool, id, { prn: made.prn, reconciled: false });
  const results = await Promise.all(
    ids.map((batchId) => cancelPickup(env.pool, sbx.ups, { batchId }, signal)),
  );
  assert.ok(readPickups(sbx.dataDir).find((p) => p.prn === made.prn)?.cancelledAt, 'cancelled at UPS');
  const cancels = readCallLog(sbx.dataDir).filter((c) => c.tool === 'cancel_pickup');
  assert.ok(
    cancels.length >= 1 && cancels.filter((c) => c.outcome === 'ok').length === 1,
    JSON.stringify(cancels),
  );
  assert.deepEqual(
    results.map((r) => r.problem),
    [undefined, undefined],
  );
  for (const id of ids) assert.equal((await getPickup(env.pool, id))?.state, 'cancelled', id);
});

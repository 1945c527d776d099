/**
 * The pickup's activities on the real ledger and sandbox, without a workflow: the sequences a batch rarely
 * meets but must survive. A cancel finds a pickup whose schedule answer was lost (the ledger knows only that a
 * request left) and cancels it at UPS; two batches sharing a PRN let go of it at once: exactly one cancel at UPS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BatchInputSchema } from '../../domain/batch';
import { upsertBatch } from '../../db/ledger/batches';
import { getPickup, markPickupScheduled, notePickupRequestSent, openPickup } from '../../db/ledger/pickup';
import { cancelPickup, pickupAddressKey, pickupRequestOf } from '../../activities/batch/pickup';
import { readCallLog } from '../../ups-sandbox/call-log';
import { readPickups } from '../../ups-sandbox/pickups';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { SHIPPER, TEMPLATE } from '../helpers/batch';

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('pickup-ledger');
});
after(async () => {
  await env?.close();
});

const when = () => {
  const d = new Date(Date.now() + 3 * 86_400_000);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() + 1);
  return { date: d.toISOString().slice(0, 10), readyTime: '09:00', closeTime: '17:00' };
};

/** A batch in the ledger with the option pickup and its pickup row opened (nothing asked of UPS yet). */
async function ledgerBatchWithPickup(pickup: ReturnType<typeof when>): Promise<string> {
  const batchId = `batch-tpl-${randomUUID().slice(0, 8)}`;
  const input = BatchInputSchema.parse({
    source: { table: 'orders' },
    template: TEMPLATE,
    shipper: SHIPPER,
    options: { pickup },
  });
  await upsertBatch(env.pool, batchId, input);
  await openPickup(env.pool, batchId, {
    ...pickup,
    addressKey: pickupAddressKey(SHIPPER),
    account: SHIPPER.ShipperNumber,
  });
  return batchId;
}

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
  await sbx.ups.close();
});

test('cancel when no request ever left: nothing asked of UPS, the pickup stays pending', async () => {
  const sbx = env.sandboxClient('pickup-never');
  const batchId = await ledgerBatchWithPickup(when());
  const r = await cancelPickup(env.pool, sbx.ups, { batchId }, signal);
  assert.equal(r.pickup?.state, 'pending');
  assert.deepEqual(readCallLog(sbx.dataDir), [], 'UPS was not asked');
  await sbx.ups.close();
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
  await sbx.ups.close();
});

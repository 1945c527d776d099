/**
 * One UPS pickup per batch (issue 25, option `pickup`): its charge in the preview is UPS's rate_pickup
 * answer; once shipping ends it is scheduled exactly once — also when schedule_pickup's answer is lost (the
 * pickup is found again with get_pickup_status, not asked for twice); a refused pickup is the batch's report,
 * not its failure, and a worker killed while the request hangs leaves one pickup; batches whose requests UPS merged share one PRN, and a batch cancelled with void cancels
 * its pickup at UPS only when no other batch still holds it. Real Temporal, PostgreSQL and the sandbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchInputArg } from '../../domain/batch';
import { approveSignal, cancelSignal, previewQuery, statusQuery } from '../../domain/messages';
import type { PickupOption } from '../../domain/pickup';
import { pickupRequestOf } from '../../activities/batch/pickup';
import { packagesOf } from '../../db/ledger/pickup';
import { readCallLog } from '../../ups-sandbox/call-log';
import { readPickups } from '../../ups-sandbox/pickups';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { processExited, startWorkerProcess } from '../helpers/worker-process';
import {
  batchInput,
  createOrdersTable,
  inPhase,
  makeOrders,
  SHIPPER,
  startBatch,
  waitForStatus,
  weekdayAhead,
} from '../helpers/batch';

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('pickup');
});
after(async () => {
  await env?.close();
});

/** A ZIP in no city of makeOrders: the sandbox rejects it (knob rejectPostalCodes), so its row fails. */
const BAD_ZIP = '80203';

const batchId = (label: string) => `batch-${label}-${randomUUID().slice(0, 8)}`;

interface PickupRow {
  state: string;
  prn: string | null;
  requests_sent: number;
  reconciled: boolean;
  quantity: number | null;
  last_error: string | null;
}

async function ledgerPickup(id: string): Promise<PickupRow | undefined> {
  const { rows } = await env.pool.query<PickupRow>(
    `SELECT state, prn, requests_sent, reconciled, quantity, last_error FROM batch_pickups WHERE batch_id = $1`,
    [id],
  );
  return rows[0];
}

const calls = (dataDir: string, tool: string) => readCallLog(dataDir).filter((c) => c.tool === tool);

function pickupInput(table: string, pickup: PickupOption, extra: Partial<BatchInputArg> = {}): BatchInputArg {
  return batchInput(table, {
    ...extra,
    options: { trackFor: '0s', concurrency: 2, ...extra.options, pickup },
  });
}

test('the preview shows UPS’s charge for the pickup; approved, one pickup for the shipped packages, scheduled once', async () => {
  const sbx = env.sandboxClient('pickup-once');
  const pickup = { date: weekdayAhead(2), readyTime: '09:00', closeTime: '17:00' };
  const table = await createOrdersTable(env.pool, makeOrders(5));
  const id = batchId('tpickup');
  await env.withWorker(
    async () => {
      const handle = await startBatch(env.client, env.taskQueue, pickupInput(table, pickup), id);
      const waiting = await waitForStatus(handle, inPhase('awaiting_approval'));
      const preview = (await handle.query(previewQuery))!;
      assert.ok(preview.pickup, 'the preview has a pickup line');
      assert.equal(preview.pickup.date, pickup.date);
      // The charge is UPS's answer to rate_pickup for this pickup, not a number of ours.
      const load = await packagesOf(env.pool, id, ['pending']);
      const charge = await sbx.ups.ratePickup(pickupRequestOf(SHIPPER, pickup, load));
      assert.equal(preview.pickup.costCents, charge.cents);
      assert.ok(charge.cents > 0);
      assert.equal(calls(sbx.dataDir, 'schedule_pickup').length, 0, 'nothing is scheduled before approval');

      await handle.signal(approveSignal, { previewHash: waiting.previewHash });
      const result = await handle.result();
      assert.equal(result.phase, 'completed');
      const status = await handle.query(statusQuery);
      assert.equal(status.pickup?.state, 'scheduled');
      assert.match(status.pickup?.prn ?? '', /^[0-9A-Z]{11}$/);

      const atUps = readPickups(sbx.dataDir);
      assert.equal(atUps.length, 1, 'one pickup at UPS');
      const p = atUps[0]!;
      assert.equal(p.prn, status.pickup.prn);
      assert.equal(p.pickupDate, pickup.date.replaceAll('-', ''));
      assert.deepEqual([p.readyTime, p.closeTime], ['0900', '1700']);
      assert.equal(p.account, SHIPPER.ShipperNumber);
      assert.equal(p.address.addressLine, '1200 Industrial Blvd Dock 4');
      assert.equal(p.address.postalCode, '78744');
      const shipped = await packagesOf(env.pool, id, ['shipped']);
      assert.equal(p.quantity, String(shipped.packages), 'the packages shipped');
      assert.equal(p.weight, shipped.weightLbs);
      assert.equal(calls(sbx.dataDir, 'schedule_pickup').length, 1, 'asked once');
      const row = await ledgerPickup(id);
      assert.deepEqual(
        [row?.state, row?.prn, row?.requests_sent, row?.reconciled],
        ['scheduled', p.prn, 1, false],
      );
      assert.equal(status.pickup?.costCents, charge.cents, 'rated with the request');
    },
    { ups: sbx.ups },
  );
});

test('schedule_pickup’s answer lost after UPS made the pickup: found with get_pickup_status, not asked for again', async () => {
  const sbx = env.sandboxClient('pickup-lost');
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({ rules: [{ fault: 'timeout_after_create', tool: 'schedule_pickup', times: 1 }] }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(3));
  const id = batchId('tpickuplost');
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        pickupInput(
          table,
          { date: weekdayAhead(3), readyTime: '10:00', closeTime: '16:00' },
          { mode: 'auto' },
        ),
        id,
      );
      const result = await handle.result();
      assert.equal(result.counts.shipped, 3);
      const schedules = calls(sbx.dataDir, 'schedule_pickup');
      assert.deepEqual(
        schedules.map((c) => c.outcome),
        ['fault'],
        'one request, whose answer was lost',
      );
      assert.ok(calls(sbx.dataDir, 'get_pickup_status').length >= 1, 'the retry looked at UPS first');
      const atUps = readPickups(sbx.dataDir);
      assert.equal(atUps.length, 1);
      const row = await ledgerPickup(id);
      assert.deepEqual(
        [row?.state, row?.prn, row?.requests_sent, row?.reconciled],
        ['scheduled', atUps[0]!.prn, 1, true],
      );
      assert.equal((await handle.query(statusQuery)).pickup?.prn, atUps[0]!.prn);
    },
    { ups: sbx.ups },
  );
});

test('UPS refuses the pickup (a date in the past): reported, the shipments stand, the batch completes', async () => {
  const sbx = env.sandboxClient('pickup-refused');
  const table = await createOrdersTable(env.pool, makeOrders(2));
  const id = batchId('tpickupno');
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        pickupInput(table, { date: '2020-01-06', readyTime: '09:00', closeTime: '17:00' }),
        id,
      );
      const waiting = await waitForStatus(handle, inPhase('awaiting_approval'));
      const preview = (await handle.query(previewQuery))!;
      assert.equal(preview.pickup?.costCents, undefined);
      assert.match(preview.pickup?.error ?? '', /9560131/, 'UPS’s refusal of the date, in the preview');
      await handle.signal(approveSignal, { previewHash: waiting.previewHash });
      const result = await handle.result();
      assert.equal(result.phase, 'completed');
      assert.equal(result.counts.shipped, 2);
      const status = await handle.query(statusQuery);
      assert.equal(status.pickup?.state, 'failed');
      assert.match(status.pickup?.error ?? '', /9560131/);
      assert.ok(
        status.rejectedMessages.some((m) => m.name === 'pickup' && /9560131/.test(m.reason)),
        JSON.stringify(status.rejectedMessages),
      );
      assert.equal(readPickups(sbx.dataDir).length, 0);
      assert.equal(calls(sbx.dataDir, 'schedule_pickup').length, 1, 'a refusal is not retried');
    },
    { ups: sbx.ups },
  );
});

test('two batches at one address and date share UPS’s PRN: cancelling one with void keeps it; a pickup held by no one else is cancelled at UPS', async () => {
  const sbx = env.sandboxClient('pickup-shared');
  writeFileSync(sbx.knobsFile, JSON.stringify({ rejectPostalCodes: [BAD_ZIP] }));
  const date = weekdayAhead(4);
  const window = { readyTime: '09:00', closeTime: '17:00' };
  const withBadRow = () =>
    createOrdersTable(
      env.pool,
      makeOrders(3, (i, o) => {
        if (i === 2) o.zip = BAD_ZIP;
      }),
    );
  await env.withWorker(
    async () => {
      // A ships and closes with its pickup.
      const a = await startBatch(
        env.client,
        env.taskQueue,
        pickupInput(await createOrdersTable(env.pool, makeOrders(2)), { date, ...window }, { mode: 'auto' }),
        batchId('tpickupa'),
      );
      await a.result();
      const prnA = (await a.query(statusQuery)).pickup?.prn;
      assert.ok(prnA);

      // B, same shipper and date: UPS gives it A's PRN. One row fails, so B waits for an operator.
      const b = await startBatch(
        env.client,
        env.taskQueue,
        pickupInput(await withBadRow(), { date, ...window }, { mode: 'auto' }),
        batchId('tpickupb'),
      );
      const waitingB = await waitForStatus(b, (s) => s.phase === 'awaiting_action' && !!s.pickup);
      assert.equal(waitingB.pickup?.prn, prnA, 'UPS merged the requests');
      assert.deepEqual(waitingB.pickup?.sharedWith, [a.workflowId]);
      await b.signal(cancelSignal, { reason: 'test', voidShipped: true });
      await b.result();
      const cancelledB = await b.query(statusQuery);
      assert.equal(cancelledB.counts.voided, 2);
      assert.equal(cancelledB.pickup?.state, 'released');
      assert.deepEqual(cancelledB.pickup?.sharedWith, [a.workflowId]);
      assert.equal(calls(sbx.dataDir, 'cancel_pickup').length, 0, 'A still needs it');
      assert.equal(readPickups(sbx.dataDir).find((p) => p.prn === prnA)?.cancelledAt, undefined);

      // C, another date: a pickup of its own, cancelled at UPS with the batch.
      const c = await startBatch(
        env.client,
        env.taskQueue,
        pickupInput(await withBadRow(), { date: weekdayAhead(5), ...window }, { mode: 'auto' }),
        batchId('tpickupc'),
      );
      const waitingC = await waitForStatus(c, (s) => s.phase === 'awaiting_action' && !!s.pickup);
      const prnC = waitingC.pickup?.prn;
      assert.ok(prnC && prnC !== prnA);
      assert.equal(waitingC.pickup?.sharedWith, undefined);
      await c.signal(cancelSignal, { reason: 'test', voidShipped: true });
      await c.result();
      assert.equal((await c.query(statusQuery)).pickup?.state, 'cancelled');
      assert.deepEqual(
        calls(sbx.dataDir, 'cancel_pickup').map((x) => x.outcome),
        ['ok'],
      );
      assert.ok(readPickups(sbx.dataDir).find((p) => p.prn === prnC)?.cancelledAt, 'cancelled at UPS');
      assert.equal((await ledgerPickup(c.workflowId))?.state, 'cancelled');
    },
    { ups: sbx.ups },
  );
});

test('a worker SIGKILLed while schedule_pickup hangs after UPS made the pickup: the next worker finds it, no second request', async () => {
  const sandboxDir = env.sandboxClient('pickup-kill').dataDir;
  // The first schedule_pickup is recorded at UPS, then its answer never comes (the rule counts across processes).
  const knobs = {
    rules: [{ fault: 'hang_after_create', tool: 'schedule_pickup', times: 1 }],
    hangMs: 120_000,
  };
  const first = startWorkerProcess('pickup-1', { taskQueue: env.taskQueue, sandboxDir, knobs });
  let second: ReturnType<typeof startWorkerProcess> | undefined;
  try {
    const table = await createOrdersTable(env.pool, makeOrders(2));
    const id = batchId('tpickupkill');
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      pickupInput(table, { date: weekdayAhead(2), readyTime: '08:00', closeTime: '18:00' }, { mode: 'auto' }),
      id,
    );
    const deadline = Date.now() + 60_000;
    while (readPickups(sandboxDir).length === 0 && Date.now() < deadline) await sleep(200);
    assert.equal(readPickups(sandboxDir).length, 1, 'UPS made the pickup');
    first.kill('SIGKILL');
    await processExited(first);
    second = startWorkerProcess('pickup-2', { taskQueue: env.taskQueue, sandboxDir, knobs });
    const result = await handle.result();
    assert.equal(result.counts.shipped, 2);
    const atUps = readPickups(sandboxDir);
    assert.equal(atUps.length, 1, 'still one pickup');
    assert.deepEqual(
      calls(sandboxDir, 'schedule_pickup').map((c) => c.outcome),
      ['hang'],
      'the successor did not ask again',
    );
    const row = await ledgerPickup(id);
    assert.deepEqual(
      [row?.state, row?.prn, row?.requests_sent, row?.reconciled],
      ['scheduled', atUps[0]!.prn, 1, true],
    );
  } finally {
    first.kill('SIGTERM');
    second?.kill('SIGTERM');
    await processExited(first);
    if (second) await processExited(second);
  }
});

test('UPS unavailable for the first schedule_pickup calls: retried, each retry looks at UPS first, one pickup', async () => {
  const sbx = env.sandboxClient('pickup-down');
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({ rules: [{ fault: 'unavailable', tool: 'schedule_pickup', times: 3 }] }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(2));
  const id = batchId('tpickupdown');
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        pickupInput(
          table,
          { date: weekdayAhead(2), readyTime: '09:00', closeTime: '17:00' },
          { mode: 'auto' },
        ),
        id,
      );
      await handle.result();
      assert.deepEqual(
        calls(sbx.dataDir, 'schedule_pickup').map((c) => c.outcome),
        ['fault', 'fault', 'fault', 'ok'],
      );
      assert.equal(
        calls(sbx.dataDir, 'get_pickup_status').length,
        4,
        'once before the first request (what the account had), then before every retry',
      );
      assert.equal(readPickups(sbx.dataDir).length, 1);
      const row = await ledgerPickup(id);
      assert.deepEqual([row?.state, row?.requests_sent, row?.reconciled], ['scheduled', 4, false]);
      assert.equal((await handle.query(statusQuery)).pickup?.prn, readPickups(sbx.dataDir)[0]!.prn);
    },
    { ups: sbx.ups },
  );
});

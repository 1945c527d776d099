/**
 * UPS down for a while (every call 503, or REQUEST_ERROR, or credentials refused), then back: the batch
 * says so (phase waiting_for_ups with the reason), stops sending, spends no row's retries, and resumes by
 * itself (or on `resume` after refused credentials); every row ships exactly once. Real dev server,
 * PostgreSQL and sandbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { cancelSignal, previewQuery, resumeUpdate, statusQuery } from '../../domain/messages';
import type { BatchStatus } from '../../domain/batch';
import { readCallLog, shipmentsPerReference } from '../../ups-sandbox/call-log';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { startWorker } from '../helpers/in-process-worker';
import {
  batchInput,
  createOrdersTable,
  inPhase,
  makeOrders,
  startBatch,
  waitForStatus,
} from '../helpers/batch';

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('ups-outage');
});
after(async () => {
  await env?.close();
});

async function ledger(batchId: string) {
  const { rows } = await env.pool.query<{
    row_no: number;
    status: string;
    reference: string;
    attempts: number;
  }>('SELECT row_no, status, reference, attempts FROM batch_rows WHERE batch_id = $1 ORDER BY row_no', [
    batchId,
  ]);
  return rows;
}

const creates = (dataDir: string) => readCallLog(dataDir).filter((c) => c.tool === 'create_shipment');

for (const [fault, reason, needsOperator] of [
  ['unavailable', /UPS unavailable/, false],
  ['request_error', /UPS unreachable/, false],
  ['auth_error', /UPS refused the credentials/, true],
] as const) {
  test(`UPS down mid-batch (${fault} on every call), then back: waiting_for_ups, no row failed, every row shipped once`, async () => {
    const ROWS = 20;
    const sbx = env.sandboxClient(`outage-${fault}`);
    await sbx.ups.close();
    writeFileSync(sbx.knobsFile, JSON.stringify({ latency: { kind: 'fixed', ms: 100 } }));
    const table = await createOrdersTable(env.pool, makeOrders(ROWS));
    const w = await startWorker(env, { sandbox: sbx, callTimeoutMs: 10_000, reconcileGraceMs: 1000 });
    try {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { mode: 'auto', options: { concurrency: 4 } }),
      );
      await waitForStatus(handle, (s) => s.counts.shipped >= 5, 60_000);
      writeFileSync(sbx.knobsFile, JSON.stringify({ faultRates: { [fault]: 1 } }));
      const outageFrom = creates(sbx.dataDir).length;
      const waiting = await waitForStatus(handle, inPhase('waiting_for_ups'), 60_000);
      assert.match(waiting.upsOutage?.reason ?? '', reason);
      assert.equal(waiting.upsOutage?.needsOperator, needsOperator);
      // While UPS stays down the batch sends no create: it only checks UPS now and then.
      await new Promise((r) => setTimeout(r, 8000));
      const during = creates(sbx.dataDir).length - outageFrom;
      const still: BatchStatus = await handle.query(statusQuery);
      assert.equal(still.phase, 'waiting_for_ups');
      // Bounded by the window, not by the batch or the outage's length: the creates in flight when UPS went
      // down (answered, so logged, after the switch), the ones that failed before the breaker tripped, and
      // the few retried in between.
      assert.ok(during <= 2 * 4 + 3, `creates sent during the outage are bounded (${during})`);
      const rowsDuring = await ledger(handle.workflowId);
      assert.equal(rowsDuring.filter((r) => r.status === 'failed' || r.status === 'needs_review').length, 0);

      writeFileSync(sbx.knobsFile, '{}');
      if (needsOperator) {
        await handle.executeUpdate(resumeUpdate, { args: [{ by: 'ops' }] });
      }
      const result = await handle.result();
      assert.equal(result.phase, 'completed');
      assert.equal(result.counts.shipped, ROWS);
      const rows = await ledger(handle.workflowId);
      const shipments = shipmentsPerReference(sbx.dataDir);
      for (const r of rows) assert.equal(shipments.get(r.reference), 1, `row ${r.row_no} shipped once`);
      process.stdout.write(
        `outage ${fault}: ${during} create calls during ${8} s of outage; ${creates(sbx.dataDir).length} creates in all for ${ROWS} rows\n`,
      );
    } finally {
      await w.stop();
    }
  });
}

test('UPS down before the preview: no $0.00 estimate, the batch waits for UPS, then previews for real', async () => {
  const sbx = env.sandboxClient('outage-preview');
  await sbx.ups.close();
  writeFileSync(sbx.knobsFile, JSON.stringify({ faultRates: { unavailable: 1 } }));
  const table = await createOrdersTable(env.pool, makeOrders(4));
  const w = await startWorker(env, { sandbox: sbx, callTimeoutMs: 10_000, reconcileGraceMs: 1000 });
  try {
    const handle = await startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }));
    const waiting = await waitForStatus(handle, inPhase('waiting_for_ups'), 60_000);
    assert.match(waiting.upsOutage?.reason ?? '', /UPS unavailable/);
    assert.equal(await handle.query(previewQuery), null, 'no preview on nothing');
    assert.equal(creates(sbx.dataDir).length, 0, 'auto mode did not ship on a $0.00 estimate');
    writeFileSync(sbx.knobsFile, '{}');
    const result = await handle.result();
    assert.equal(result.phase, 'completed');
    assert.equal(result.counts.shipped, 4);
    const preview = (await handle.query(previewQuery))!;
    assert.ok(preview.totalEstimatedCostCents > 0, 'a real estimate');
    assert.equal(preview.unratedRows, 0);
  } finally {
    await w.stop();
  }
});

test('cancel while waiting for UPS: the batch closes cleanly, nothing pending or in flight, nothing shipped after', async () => {
  const sbx = env.sandboxClient('outage-cancel');
  await sbx.ups.close();
  writeFileSync(sbx.knobsFile, JSON.stringify({ latency: { kind: 'fixed', ms: 100 } }));
  const table = await createOrdersTable(env.pool, makeOrders(10));
  const w = await startWorker(env, { sandbox: sbx, callTimeoutMs: 10_000, reconcileGraceMs: 1000 });
  try {
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { concurrency: 2 } }),
    );
    await waitForStatus(handle, (s) => s.counts.shipped >= 2, 60_000);
    writeFileSync(sbx.knobsFile, JSON.stringify({ faultRates: { request_error: 1 } }));
    await waitForStatus(handle, inPhase('waiting_for_ups'), 60_000);
    await handle.signal(cancelSignal, { reason: 'UPS is down, we ship tomorrow' });
    const result = await handle.result();
    assert.equal(result.phase, 'cancelled');
    const rows = await ledger(handle.workflowId);
    assert.equal(rows.filter((r) => r.status === 'pending' || r.status === 'in_flight').length, 0);
    const shipments = shipmentsPerReference(sbx.dataDir);
    for (const r of rows) {
      const n = shipments.get(r.reference) ?? 0;
      assert.ok(n <= 1, `row ${r.row_no} shipped at most once`);
      if (r.status === 'shipped') assert.equal(n, 1);
      if (r.status === 'cancelled') assert.equal(n, 0);
    }
  } finally {
    await w.stop();
  }
});

test('resume is refused outside waiting_for_ups, with the reason', async () => {
  const table = await createOrdersTable(env.pool, makeOrders(1));
  await env.withWorker(async () => {
    const handle = await startBatch(env.client, env.taskQueue, batchInput(table));
    await waitForStatus(handle, inPhase('awaiting_approval'));
    await assert.rejects(handle.executeUpdate(resumeUpdate, { args: [{}] }), (err: Error) => {
      assert.match(
        String((err.cause as Error | undefined)?.message),
        /nothing to resume: the batch is awaiting_approval/,
      );
      return true;
    });
    await handle.signal(cancelSignal, {});
    await handle.result();
  });
});

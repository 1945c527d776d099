/**
 * Write-back: the tracking number of every shipped row lands in the source's
 * write-back column, and nothing is written for rows that did not ship; a write-back that cannot succeed
 * (the column turned out not to be writable, or was dropped while the batch ran) never undoes or repeats
 * a shipment: the batch still completes and reports the failure in `status.rejectedMessages` (also
 * when queried after it closed).
 * Real dev server, PostgreSQL and sandbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { approveSignal, finishSignal, statusQuery } from '../../domain/messages';
import { FINAL_PHASES, type BatchStatus } from '../../domain/batch';
import { shipmentsPerReference } from '../../ups-sandbox/call-log';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import {
  batchInput,
  createOrdersTable,
  inPhase,
  makeOrders,
  startBatch,
  waitForStatus,
} from '../helpers/batch';

let env: TestEnvironment;
/** Sandbox clients the tests opened (their sandbox processes would keep the test process alive). */
const sandboxes: { close(): Promise<void> }[] = [];
const sandbox = (label: string) => {
  const s = env.sandboxClient(label);
  sandboxes.push(s.ups);
  return s;
};
before(async () => {
  env = await openTestEnvironment('batch-writeback');
});
after(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
  await env?.close();
});

async function ledger(batchId: string) {
  const { rows } = await env.pool.query<{
    row_no: number;
    source_key: string;
    status: string;
    reference: string;
    tracking_numbers: string[] | null;
  }>(
    `SELECT row_no, source_key, status, reference, tracking_numbers FROM batch_rows
      WHERE batch_id = $1 ORDER BY row_no`,
    [batchId],
  );
  return rows;
}

async function sourceTracking(table: string): Promise<Map<string, string | null>> {
  const { rows } = await env.pool.query<{ id: number; tracking: string | null }>(
    `SELECT id, tracking::text AS tracking FROM ${table} ORDER BY id`,
  );
  return new Map(rows.map((r) => [String(r.id), r.tracking]));
}

/**
 * Wait until the batch reaches a final phase; on a timeout, say what the workflow is stuck on (a
 * pending activity and its last failure), since that is the interesting part.
 */
async function settled(handle: WorkflowHandle, timeoutMs = 45_000): Promise<BatchStatus> {
  try {
    return await waitForStatus(handle, (s) => FINAL_PHASES.has(s.phase), timeoutMs);
  } catch (err) {
    const d = await handle.describe();
    const pending = d.raw.pendingActivities?.map(
      (a) => `${a.activityType?.name} attempt ${a.attempt}: ${a.lastFailure?.message ?? ''}`,
    );
    // A batch stuck in retries would keep the worker from shutting down: end it before failing.
    await handle.terminate('test timed out').catch(() => undefined);
    throw new Error(`${(err as Error).message}; pending activities: ${JSON.stringify(pending)}`, {
      cause: err,
    });
  }
}

test('write-back fills the column for shipped rows only', async () => {
  const sbx = sandbox('shipped-only');
  // Row 2 is invalid (no state), row 5 is refused by UPS (address rejection): neither ships.
  writeFileSync(sbx.knobsFile, JSON.stringify({ rejectPostalCodes: ['99999'] }));
  const orders = makeOrders(6, (i, o) => {
    if (i === 1) o.state = '';
    if (i === 4) o.zip = '99999';
  });
  const table = await createOrdersTable(env.pool, orders, 'orders_wb');
  const status = await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { mode: 'auto', options: { writeBack: { column: 'tracking' } } }),
      );
      // The refused row waits for an operator; `finish` closes the batch as it is (write-back then).
      await waitForStatus(handle, inPhase('awaiting_action'));
      await handle.signal(finishSignal, {});
      const s = await settled(handle);
      assert.equal(s.phase, 'completed_with_errors');
      assert.equal((await handle.result()).phase, s.phase);
      return s;
    },
    { ups: sbx.ups },
  );
  const rows = await ledger(status.batchId);
  const tracking = await sourceTracking(table);
  const shipped = rows.filter((r) => r.status === 'shipped');
  assert.deepEqual(
    rows.map((r) => r.status),
    ['shipped', 'invalid', 'shipped', 'shipped', 'failed', 'shipped'],
  );
  assert.equal(shipped.length, 4);
  for (const r of rows) {
    const written = tracking.get(r.source_key);
    if (r.status === 'shipped') {
      assert.ok(r.tracking_numbers && r.tracking_numbers.length > 0);
      assert.equal(written, r.tracking_numbers.join(' '), `row ${r.row_no}: written back`);
      assert.match(written ?? '', /^1Z[0-9A-Z]{16}/);
    } else {
      assert.equal(written, null, `row ${r.row_no} (${r.status}): nothing written`);
    }
  }
  assert.equal(
    status.rejectedMessages.filter((m) => m.name === 'writeBack').length,
    0,
    JSON.stringify(status.rejectedMessages),
  );
});

/** Run a batch whose write-back cannot succeed; `spoil` breaks the column (before or mid-batch). */
async function failingWriteBack(label: string, spoil: (table: string) => Promise<void>, midBatch: boolean) {
  const sbx = sandbox(label);
  const table = await createOrdersTable(env.pool, makeOrders(5), `orders_${label}`);
  if (!midBatch) await spoil(table);
  const status = await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, {
          mode: midBatch ? 'confirm' : 'auto',
          options: { writeBack: { column: 'tracking' } },
        }),
      );
      if (midBatch) {
        // Loaded and previewed against the intact table; the column goes before anything ships.
        const waiting = await waitForStatus(handle, inPhase('awaiting_approval'));
        await spoil(table);
        await handle.signal(approveSignal, { previewHash: waiting.previewHash });
      }
      return settled(handle);
    },
    { ups: sbx.ups },
  );
  // Shipments intact: all five shipped, once each, and the batch completed despite the write-back.
  assert.equal(status.phase, 'completed', JSON.stringify(status));
  assert.equal(status.counts.shipped, 5);
  const rows = await ledger(status.batchId);
  const perRef = shipmentsPerReference(sbx.dataDir);
  for (const r of rows) {
    assert.equal(r.status, 'shipped');
    assert.equal(perRef.get(r.reference), 1, `row ${r.row_no} shipped once`);
  }
  const reported = status.rejectedMessages.filter((m) => m.name === 'writeBack');
  assert.equal(reported.length, 1, JSON.stringify(status.rejectedMessages));
  assert.match(reported[0]!.reason, /write-back failed: .*tracking/);
  // The closed workflow still answers with the failure: operators see it after the fact.
  const closed = await env.withWorker(() => env.client.workflow.getHandle(status.batchId).query(statusQuery));
  assert.equal(closed.phase, 'completed');
  assert.deepEqual(
    closed.rejectedMessages.filter((m) => m.name === 'writeBack'),
    reported,
  );
  return { table, reason: reported[0]!.reason };
}

test('a write-back column too short for tracking numbers: shipments intact, failure reported', async () => {
  const { table, reason } = await failingWriteBack(
    'short',
    async (t) => {
      await env.pool.query(`ALTER TABLE ${t} ALTER COLUMN tracking TYPE varchar(5)`);
    },
    false,
  );
  assert.ok(
    [...(await sourceTracking(table)).values()].every((v) => v === null),
    'nothing half-written',
  );
  assert.doesNotMatch(reason, /1Z[0-9A-Z]{16}/, 'no tracking number in the message');
});

test('a write-back column dropped mid-batch: shipments intact, failure reported', async () => {
  await failingWriteBack(
    'dropped',
    async (t) => {
      await env.pool.query(`ALTER TABLE ${t} DROP COLUMN tracking`);
    },
    true,
  );
});

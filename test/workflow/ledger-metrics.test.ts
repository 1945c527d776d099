/**
 * `shipbatch_rows_total` counts an outcome once, when the ledger records it, on the real PostgreSQL: a row
 * settled after its retries ran out, settled again by a retried activity, and rows the cancel sends to review.
 * (The shipRow outcomes are counted against the ledger on a real batch: test/e2e/metrics.test.ts.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { openPool } from '../../db/pool';
import { createBatchActivities } from '../../activities/batch';
import type { CountedRowStatus, ShipbatchMetrics } from '../../activities/metrics';
import type { UpsClient } from '../../activities/ups/client';
import { deleteLedgerBatch, insertLedgerBatch } from '../helpers/ledger-batch';

let pool: pg.Pool;
before(async () => {
  pool = await openPool({ url: process.env.DATABASE_URL!, max: 3 });
});
after(async () => {
  await pool?.end();
});

/** Metrics that keep the row outcomes they are told. */
function rowRecorder() {
  const rows: [string, CountedRowStatus, number][] = [];
  const metrics: ShipbatchMetrics = {
    rowOutcome: (batch, status, n = 1) => void (n > 0 && rows.push([batch, status, n])),
    upsCall: () => undefined,
    sessionWait: () => undefined,
    sessions: () => undefined,
    templateRendered: () => undefined,
  };
  return { rows, metrics };
}

test('settleRow and markRows count the outcomes they record, once', async () => {
  const batchId = `batch-metrics-${randomUUID().slice(0, 8)}`;
  // Row n % 20: 1 invalid, 0 failed, 2 needs_review, 3 cancelled, else shipped.
  await insertLedgerBatch(pool, batchId, 20);
  try {
    await pool.query(
      `UPDATE batch_rows SET status = CASE row_no WHEN 4 THEN 'in_flight' WHEN 5 THEN 'pending'
                                                  WHEN 6 THEN 'in_flight' WHEN 7 THEN 'in_flight' END
        WHERE batch_id = $1 AND row_no IN (4, 5, 6, 7)`,
      [batchId],
    );
    const { rows, metrics } = rowRecorder();
    const activities = createBatchActivities({
      pool,
      ups: {} as UpsClient,
      statementTimeoutMs: 30_000,
      reconcileGraceMs: 0,
      callTimeoutMs: 1000,
      recreateAfterGrace: true,
      metrics,
    });
    const settle = (rowNo: number) => activities.settleRow({ batchId, rowNo, reason: 'gave up' });
    assert.equal(await settle(4), 'needs_review');
    assert.equal(await settle(5), 'failed');
    assert.equal(await settle(4), 'needs_review', 'a retried settle finds it settled');
    assert.equal(await settle(8), 'shipped', 'a shipped row stays shipped');
    assert.deepEqual(rows, [
      [batchId, 'needs_review', 1],
      [batchId, 'failed', 1],
    ]);

    rows.length = 0;
    const move = () =>
      activities.markRows({ batchId, from: ['in_flight'], to: 'needs_review', reason: 'cancelled' });
    assert.equal(await move(), 2);
    assert.equal(await move(), 0, 'a retried move moves nothing');
    await activities.markRows({ batchId, from: ['needs_review'], to: 'in_flight' });
    assert.deepEqual(rows, [[batchId, 'needs_review', 2]], 'only moves into a counted status');
  } finally {
    await deleteLedgerBatch(pool, batchId);
  }
});

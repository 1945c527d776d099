/**
 * The preview rates in pages stored in the ledger: a preview interrupted mid-way (its worker stopped while
 * UPS was slow) resumes on another worker after the last stored page and never rates a row twice; the
 * estimate of `rateAll` is still exact.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { previewQuery } from '../../domain/messages';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import { RATE_PAGE_ROWS } from '../../activities/batch/preview';
import { readCallLog } from '../../ups-sandbox/call-log';
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
  env = await openTestEnvironment('preview-resume');
});
after(async () => {
  await env?.close();
});

test('rateAll interrupted after its first page resumes there: every row rated once, the estimate exact', async () => {
  const ROWS = RATE_PAGE_ROWS + 150;
  const sbx = env.sandboxClient('resume');
  const table = await createOrdersTable(env.pool, makeOrders(ROWS));
  let worker = await startWorker(env, { sandbox: sbx, callTimeoutMs: 60_000, reconcileGraceMs: 1000 });
  const rated = async (batchId: string) =>
    (
      await env.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM batch_rows WHERE batch_id = $1 AND rated_at IS NOT NULL',
        [batchId],
      )
    ).rows[0]!.n;
  try {
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { options: { rateAll: true } }),
    );
    // Once the first page is stored, UPS rating becomes very slow; then the worker goes away.
    for (let i = 0; (await rated(handle.workflowId)) < RATE_PAGE_ROWS; i++) {
      if (i > 1200) throw new Error('the first page was never stored');
      await new Promise((r) => setTimeout(r, 100));
    }
    writeFileSync(
      sbx.knobsFile,
      JSON.stringify({ rules: [{ tool: 'rate_shipment', fault: 'slow', ms: 120_000, times: 100_000 }] }),
    );
    await new Promise((r) => setTimeout(r, 1000));
    await worker.stop();
    const storedBefore = await rated(handle.workflowId);
    assert.ok(
      storedBefore >= RATE_PAGE_ROWS && storedBefore < ROWS,
      `stopped mid-way (${storedBefore} rated)`,
    );
    writeFileSync(sbx.knobsFile, '{}');
    worker = await startWorker(env, { sandbox: sbx, callTimeoutMs: 60_000, reconcileGraceMs: 1000 });
    await waitForStatus(handle, inPhase('awaiting_approval'), 120_000);
    const preview = (await handle.query(previewQuery))!;

    const answered = new Map<string, number>();
    for (const c of readCallLog(sbx.dataDir))
      if (c.tool === 'rate_shipment' && c.outcome === 'ok' && c.reference)
        answered.set(c.reference, (answered.get(c.reference) ?? 0) + 1);
    const { rows } = await env.pool.query<{
      reference: string;
      estimate_cents: string;
      request: ShipmentRequestBody;
    }>('SELECT reference, estimate_cents, request FROM batch_rows WHERE batch_id = $1 ORDER BY row_no', [
      handle.workflowId,
    ]);
    assert.equal(rows.length, ROWS);
    // Rows of a stored page are never rated again (rows of the interrupted page may be: not stored yet).
    for (const r of rows.slice(0, RATE_PAGE_ROWS))
      assert.equal(answered.get(r.reference), 1, `${r.reference} rated once`);
    for (const r of rows) assert.ok((answered.get(r.reference) ?? 0) >= 1, `${r.reference} rated`);
    // rateAll is exact: the stored quotes of every row, and they are the sandbox's quotes.
    const sum = rows.reduce((s, r) => s + Number(r.estimate_cents), 0);
    assert.equal(preview.totalEstimatedCostCents, sum);
    const sample = rows[RATE_PAGE_ROWS + 3]!;
    assert.equal(
      Number(sample.estimate_cents),
      (await sbx.ups.rateShipmentRequest(sample.request)).totalCents,
    );
    const runs = await handle.fetchHistory();
    const attempts = (runs.events ?? []).filter(
      (e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1,
    );
    assert.ok(attempts.length >= 1, 'the preview activity ran a second attempt');
    await handle.terminate('test done');
  } finally {
    await worker.stop();
    await sbx.ups.close();
  }
});

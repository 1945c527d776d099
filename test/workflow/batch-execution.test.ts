/**
 * The batch workflow's execution: preview arithmetic against real sandbox quotes,
 * definitive and transient UPS errors, a refused filter, restart of failed rows, reconcile of ambiguous
 * creates, cancel with void, and continue-as-new. Real dev server, PostgreSQL and sandbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import {
  approveSignal,
  cancelSignal,
  finishSignal,
  previewQuery,
  resolveSignal,
  restartSignal,
  setModeSignal,
  statusQuery,
} from '../../domain/messages';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import { callsPerReference, readCallLog, shipmentsPerReference } from '../../ups-sandbox/call-log';
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
before(async () => {
  env = await openTestEnvironment('batch-execution');
});
after(async () => {
  await env?.close();
});

async function ledgerRows(batchId: string) {
  const { rows } = await env.pool.query<{
    row_no: number;
    status: string;
    reference: string;
    request: ShipmentRequestBody | null;
    cost_cents: string | null;
    tracking_numbers: string[] | null;
  }>(
    'SELECT row_no, status, reference, request, cost_cents, tracking_numbers FROM batch_rows WHERE batch_id = $1 ORDER BY row_no',
    [batchId],
  );
  return rows;
}

/** Every row shipped at most once, and the ledger agrees with the sandbox's record. */
function assertExactlyOnce(dataDir: string, rows: Awaited<ReturnType<typeof ledgerRows>>) {
  const shipments = shipmentsPerReference(dataDir);
  for (const r of rows) {
    const n = shipments.get(r.reference) ?? 0;
    assert.ok(n <= 1, `row ${r.row_no} shipped ${n} times`);
    assert.equal(
      n,
      r.status === 'shipped' || r.status === 'voided' ? 1 : 0,
      `row ${r.row_no} is ${r.status}`,
    );
  }
}

test('preview: detailed rows, additional rows and the estimate from real quotes; rateAll is exact', async () => {
  const sbx = env.sandboxClient('preview');
  const table = await createOrdersTable(
    env.pool,
    makeOrders(12, (i, o) => {
      if (i === 11) o.state = ''; // one invalid row
    }),
  );
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { options: { previewRows: 4 } }),
      );
      await waitForStatus(handle, inPhase('awaiting_approval'));
      const preview = (await handle.query(previewQuery))!;
      assert.equal(preview.totalRows, 12);
      assert.equal(preview.validRows, 11);
      assert.equal(preview.invalidRows, 1);
      assert.equal(preview.previewRows.length, 4);
      assert.equal(preview.additionalRows, 7);
      // Quote the same requests independently and check the arithmetic.
      const rows = (await ledgerRows(handle.workflowId)).filter((r) => r.request);
      const quotes = [];
      for (const r of rows) quotes.push((await sbx.ups.rateShipmentRequest(r.request!)).totalCents);
      const first4 = quotes.slice(0, 4);
      const sum4 = first4.reduce((a, b) => a + b, 0);
      assert.deepEqual(
        preview.previewRows.map((p) => p.estimatedCostCents),
        first4,
      );
      assert.equal(preview.totalEstimatedCostCents, sum4 + Math.round((sum4 * 7) / 4));
      assert.deepEqual(
        preview.previewRows.map((p) => p.service),
        ['UPS Next Day Air', 'UPS Ground', 'UPS Ground', 'UPS Next Day Air'],
      );
      // Row data is not in the workflow's copy; the ledger's copy has it.
      assert.equal(preview.previewRows[0]!.recipient, '');
      const { rows: stored } = await env.pool.query<{
        preview: { previewRows: { recipient: string; cityState: string }[] };
      }>('SELECT preview FROM batches WHERE batch_id = $1', [handle.workflowId]);
      assert.equal(stored[0]!.preview.previewRows[0]!.recipient, 'Michael Davis');
      assert.equal(stored[0]!.preview.previewRows[0]!.cityState, 'Portland, OR');
      await handle.signal(cancelSignal, { reason: 'only previewing' });
      assert.equal((await handle.result()).phase, 'cancelled');

      const exact = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { options: { previewRows: 2, rateAll: true } }),
      );
      await waitForStatus(exact, inPhase('awaiting_approval'));
      const p2 = (await exact.query(previewQuery))!;
      assert.equal(
        p2.totalEstimatedCostCents,
        quotes.reduce((a, b) => a + b, 0),
      );
      assert.equal(p2.previewRows.length, 2);
      await exact.signal(cancelSignal, {});
      await exact.result();
      assert.equal(readCallLog(sbx.dataDir).filter((c) => c.tool === 'create_shipment').length, 0);
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('an address rejection fails only its row; injected 429/503 are retried to success; restart ships the failed row once', async () => {
  const sbx = env.sandboxClient('faults');
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({
      retryAfterSeconds: 1,
      rejectPostalCodes: ['60601'],
      rules: [
        { tool: 'create_shipment', fault: 'rate_limit', times: 1, perReference: true },
        { tool: 'create_shipment', fault: 'unavailable', times: 2 },
      ],
    }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(5)); // row 4 is in Chicago, 60601
  await env.withWorker(
    async () => {
      const handle = await startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }));
      const waiting = await waitForStatus(handle, inPhase('awaiting_action'));
      assert.equal(waiting.counts.failed, 1);
      assert.equal(waiting.counts.shipped, 4);
      const rows = await ledgerRows(handle.workflowId);
      assert.equal(rows.find((r) => r.status === 'failed')?.row_no, 4);
      const perRefCalls = callsPerReference(sbx.dataDir);
      assert.ok(
        rows.filter((r) => r.status === 'shipped').every((r) => (perRefCalls.get(r.reference) ?? 0) >= 2),
        'every shipped row was refused once (429) and retried',
      );
      assertExactlyOnce(sbx.dataDir, rows);

      // The fault is gone: restart ships the failed row and nothing else.
      writeFileSync(sbx.knobsFile, '{}');
      await handle.signal(restartSignal, { scope: 'failed' });
      const result = await handle.result();
      assert.equal(result.phase, 'completed');
      assert.equal(result.counts.shipped, 5);
      const after = await ledgerRows(handle.workflowId);
      assertExactlyOnce(sbx.dataDir, after);
      assert.equal(
        result.totalCostCents,
        after.reduce((s, r) => s + Number(r.cost_cents ?? 0), 0),
      );
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('an ambiguous create (UPS shipped, the reply was lost) is reconciled through recover_label: shipped once', async () => {
  const sbx = env.sandboxClient('ambiguous');
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({
      rules: [{ tool: 'create_shipment', fault: 'timeout_after_create', times: 1, perReference: true }],
    }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(3));
  await env.withWorker(
    async () => {
      const handle = await startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }));
      const result = await handle.result();
      assert.equal(result.phase, 'completed');
      assert.equal(result.counts.shipped, 3);
      const rows = await ledgerRows(handle.workflowId);
      assertExactlyOnce(sbx.dataDir, rows);
      assert.ok(rows.every((r) => r.tracking_numbers?.[0]?.startsWith('1Z')));
      const recovers = readCallLog(sbx.dataDir).filter((c) => c.tool === 'recover_label').length;
      assert.ok(recovers >= 3, `each row was looked up (${recovers} recover_label calls)`);
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('with recover_label failing, a doubtful row needs review; resolve settles it', async () => {
  const sbx = env.sandboxClient('review');
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({
      rules: [
        { tool: 'create_shipment', fault: 'timeout_after_create', times: 1 },
        { tool: 'recover_label', fault: 'invalid_request', times: 1000 },
      ],
    }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(2));
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { mode: 'auto', options: { concurrency: 1 } }),
      );
      const waiting = await waitForStatus(handle, (s) => s.phase === 'awaiting_action');
      assert.equal(waiting.counts.needsReview, 1);
      const rows = await ledgerRows(handle.workflowId);
      const doubtful = rows.find((r) => r.status === 'needs_review')!;
      // The operator finds the shipment at UPS and records it.
      const shipped = [...shipmentsPerReference(sbx.dataDir).keys()];
      assert.ok(shipped.includes(doubtful.reference), 'UPS did ship it');
      await handle.signal(resolveSignal, {
        row: doubtful.row_no,
        outcome: 'shipped',
        trackingNumber: '1ZA1B2C30312345678',
      });
      const result = await handle.result();
      assert.equal(result.phase, 'completed');
      assert.equal(result.counts.shipped, 2);
      const creates = callsPerReference(sbx.dataDir);
      assert.equal(creates.get(doubtful.reference), 1, 'never shipped blind');
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('cancel {voidShipped} mid-batch: no new dispatch, in-flight rows settle, shipped rows voided in ledger and sandbox', async () => {
  const sbx = env.sandboxClient('cancel');
  writeFileSync(sbx.knobsFile, JSON.stringify({ latency: { kind: 'fixed', ms: 250 } }));
  const table = await createOrdersTable(env.pool, makeOrders(20));
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { mode: 'auto', options: { concurrency: 2 } }),
      );
      await waitForStatus(handle, (s) => s.counts.shipped >= 2);
      await handle.signal(cancelSignal, { reason: 'wrong addresses', voidShipped: true });
      const result = await handle.result();
      assert.equal(result.phase, 'cancelled');
      assert.ok(result.counts.voided >= 2);
      assert.equal(result.counts.shipped, 0);
      assert.equal(result.counts.voided + result.counts.cancelled, 20);
      const rows = await ledgerRows(handle.workflowId);
      assertExactlyOnce(sbx.dataDir, rows);
      const voids = readCallLog(sbx.dataDir).filter((c) => c.tool === 'void_shipment').length;
      assert.equal(voids, result.counts.voided);
      assert.equal(result.totalCostCents, 0, 'voided rows cost nothing');
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test("Temporal's own cancellation (Web UI Cancel) stops like cancel without voiding: rows settle, the rest cancelled", async () => {
  const sbx = env.sandboxClient('temporal-cancel');
  writeFileSync(sbx.knobsFile, JSON.stringify({ latency: { kind: 'fixed', ms: 250 } }));
  const table = await createOrdersTable(env.pool, makeOrders(16));
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { mode: 'auto', options: { concurrency: 3 } }),
      );
      await waitForStatus(handle, (s) => s.counts.shipped >= 2);
      await handle.cancel();
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.equal(err.cause?.name, 'CancelledFailure');
        return true;
      });
      const rows = await ledgerRows(handle.workflowId);
      const by = (st: string) => rows.filter((r) => r.status === st).length;
      assert.equal(by('in_flight') + by('pending'), 0, 'no row left in flight or pending');
      assert.ok(by('shipped') >= 2);
      assert.equal(by('shipped') + by('cancelled'), 16);
      assert.equal(by('voided'), 0, 'no void without voidShipped');
      assertExactlyOnce(sbx.dataDir, rows);
      const status = await handle.query(statusQuery);
      assert.equal(status.phase, 'cancelled');
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('a batch continues as new at least 3 times, keeps its counts, and a signal sent during the switches takes effect', async () => {
  const sbx = env.sandboxClient('can');
  const table = await createOrdersTable(
    env.pool,
    makeOrders(14, (i, o) => {
      if (i === 12) o.zip = '80203';
    }),
  );
  writeFileSync(sbx.knobsFile, JSON.stringify({ rejectPostalCodes: ['80203'] }));
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { options: { rowsPerRun: 3, concurrency: 2 } }),
      );
      const s = await waitForStatus(handle, inPhase('awaiting_approval'));
      await handle.signal(approveSignal, { previewHash: s.previewHash, by: 'bob' });
      // Signals sent while runs hand over: each must reach a run and be recorded (refused: mode is locked).
      let sent = 0;
      while ((await handle.query(statusQuery)).phase === 'executing' && sent < 40) {
        await handle.signal(setModeSignal, { mode: 'auto' });
        sent++;
        await new Promise((r) => setTimeout(r, 50));
      }
      const waiting = await waitForStatus(handle, inPhase('awaiting_action'));
      assert.ok(sent >= 3, `signals sent during execution (${sent})`);
      assert.equal(
        waiting.rejectedMessages.filter((m) => m.name === 'setMode' && /mode is locked/.test(m.reason))
          .length,
        sent,
        'every signal sent across the hand-overs was received and recorded',
      );
      assert.equal(waiting.counts.shipped, 13);
      assert.equal(waiting.counts.failed, 1);
      assert.equal(waiting.approval?.by, 'bob', 'approval carried across runs');
      await handle.signal(finishSignal, {});
      const result = await handle.result();
      assert.equal(result.phase, 'completed_with_errors');
      assert.equal(result.counts.shipped, 13);
      const runs = [];
      for await (const w of env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` }))
        runs.push(w.runId);
      assert.ok(runs.length >= 4, `continued as new ${runs.length - 1} times`);
      assertExactlyOnce(sbx.dataDir, await ledgerRows(handle.workflowId));
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('a refused filter or an unknown table fails the batch at start, names the problem, reads nothing', async () => {
  const table = await createOrdersTable(env.pool, makeOrders(3));
  await env.withWorker(async () => {
    for (const [source, why] of [
      [{ table, filter: '1=1; DROP TABLE ' + table }, /;|one expression|statement/i],
      [{ table, filter: 'pg_sleep(10) IS NULL' }, /pg_sleep/],
      [{ table, filter: `id IN (SELECT id FROM ${table})` }, /subquer/i],
      [{ table, filter: 'nosuchcolumn = 1' }, /nosuchcolumn/],
      [{ table: 'no_such_table' }, /no_such_table/],
      [{ table, keyColumn: 'nokey' }, /nokey/],
    ] as const) {
      const handle = await startBatch(env.client, env.taskQueue, batchInput(table, { source, mode: 'auto' }));
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        const msg = String((err.cause?.cause as Error | undefined)?.message ?? err.cause?.message);
        assert.match(msg, why);
        return true;
      });
      const { rows } = await env.pool.query('SELECT 1 FROM batch_rows WHERE batch_id = $1', [
        handle.workflowId,
      ]);
      assert.equal(rows.length, 0, 'nothing loaded');
    }
    const { rows } = await env.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    assert.equal(rows[0]!.n, 3, 'the source is untouched');
  });
});

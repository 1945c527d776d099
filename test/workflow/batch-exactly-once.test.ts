/**
 * Exactly once under the sequences that used to break it (docs/exactly-once.md):
 * UPS making a shipment visible to label recovery late; an attempt whose worker is cut off from Temporal
 * while its create goes on (a second attempt starts elsewhere); a superseded attempt whose shipment lands
 * anyway (an extra shipment, voided); a cancel while restarted rows wait to reconcile, and while rows are
 * being refused with 429. Real dev server, PostgreSQL, sandbox over stdio, workers built like production's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { cancelSignal, restartSignal } from '../../domain/messages';
import type { BatchResult } from '../../domain/batch';
import {
  callsPerReference,
  liveShipmentsPerReference,
  readCallLog,
  shipmentsPerReference,
} from '../../ups-sandbox/call-log';
import { readShipments } from '../../ups-sandbox/store';
import { readRows } from '../../client/ledger';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { startWorker, type RunningWorker } from '../helpers/in-process-worker';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
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
  env = await openTestEnvironment('exactly-once');
});
after(async () => {
  await env?.close();
});

interface LedgerRow {
  row_no: number;
  status: string;
  reference: string;
  shipment_id: string | null;
  tracking_numbers: string[] | null;
  cost_cents: string | null;
  cost_estimated: boolean;
  claim: number;
  creates_sent: number;
}

async function ledgerRows(batchId: string): Promise<LedgerRow[]> {
  const { rows } = await env.pool.query<LedgerRow>(
    `SELECT row_no, status, reference, shipment_id, tracking_numbers, cost_cents, cost_estimated, claim, creates_sent
       FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
    [batchId],
  );
  return rows;
}

/**
 * Ledger = batch result = sandbox: every row terminal, each shipped row's shipment is the one live
 * shipment of its reference in the sandbox's own record, no other row has a live shipment.
 */
function assertLedgerIsUps(dataDir: string, result: BatchResult, rows: LedgerRow[]): void {
  const live = liveShipmentsPerReference(dataDir);
  const byId = new Map(readShipments(dataDir).map((s) => [s.shipmentId, s]));
  for (const r of rows) {
    assert.ok(!['pending', 'in_flight'].includes(r.status), `row ${r.row_no} is terminal (${r.status})`);
    if (r.status === 'shipped') {
      assert.equal(live.get(r.reference), 1, `row ${r.row_no}: one live shipment at UPS`);
      const rec = byId.get(r.shipment_id ?? '');
      assert.ok(rec && !rec.voidedAt, `row ${r.row_no}: its shipment ${r.shipment_id} is the live one`);
    } else {
      assert.equal(live.get(r.reference) ?? 0, 0, `row ${r.row_no} (${r.status}) has no live shipment`);
    }
  }
  const count = (s: string) => rows.filter((r) => r.status === s).length;
  assert.equal(result.counts.shipped, count('shipped'), 'result = ledger (shipped)');
  assert.equal(result.counts.voided, count('voided'), 'result = ledger (voided)');
  assert.equal(result.counts.cancelled, count('cancelled'), 'result = ledger (cancelled)');
  assert.equal(
    result.totalCostCents,
    rows.filter((r) => r.status === 'shipped').reduce((s, r) => s + Number(r.cost_cents ?? 0), 0),
    'result = ledger (cost)',
  );
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a create whose answer was lost is visible to label recovery only 7 s later: counted from the send + call timeout, it is found, never created again', async () => {
  const sbx = env.sandboxClient('late-visible');
  await sbx.ups.close();
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({
      recoverVisibleAfterMs: 7000,
      rules: [{ tool: 'create_shipment', fault: 'timeout_after_create', times: 1, perReference: true }],
    }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(3));
  // The retry's first lookup comes ~2 s after the create; "not found" for a 3 s grace from there would end
  // at ~5 s, before UPS shows the shipment (7 s): a second create. Counted from the send + the call
  // timeout (6 s), the grace ends at 9 s.
  const w = await startWorker(env, { sandbox: sbx, callTimeoutMs: 6000, reconcileGraceMs: 3000 });
  try {
    const handle = await startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }));
    const result = await handle.result();
    assert.equal(result.phase, 'completed');
    assert.equal(result.counts.shipped, 3);
    const rows = await ledgerRows(handle.workflowId);
    const creates = callsPerReference(sbx.dataDir);
    const notFound = readCallLog(sbx.dataDir).filter(
      (c) => c.tool === 'recover_label' && c.outcome === 'error',
    );
    for (const r of rows) {
      assert.equal(creates.get(r.reference), 1, `row ${r.row_no}: one create`);
      assert.equal(shipmentsPerReference(sbx.dataDir).get(r.reference), 1, `row ${r.row_no}: one shipment`);
      assert.ok(
        notFound.some((c) => c.reference === r.reference),
        `row ${r.row_no}: UPS answered "not found" while it lagged`,
      );
      // Found again by reference: UPS gave no charges, so the cost is a quote, marked as estimated.
      assert.ok(r.cost_estimated && Number(r.cost_cents) > 0, `row ${r.row_no}: estimated cost`);
    }
    assert.equal(result.estimatedCostRows, 3);
    assertLedgerIsUps(sbx.dataDir, result, rows);
  } finally {
    await w.stop();
  }
});

/**
 * Worker A (through a proxy) sends row 1's create, which UPS takes 25 s to make; A is then cut off from
 * Temporal, its heartbeats stop, and after the heartbeat timeout (20 s) attempt 2 runs on worker B.
 */
async function staleAttempt(opts: {
  label: string;
  /** Worker B's idea of the call timeout (a wrong, short one lets B create while A's create is under way). */
  bCallTimeoutMs: number;
  rules: object[];
}) {
  const sbx = env.sandboxClient(opts.label);
  await sbx.ups.close();
  writeFileSync(sbx.knobsFile, JSON.stringify({ rules: opts.rules }));
  const table = await createOrdersTable(env.pool, makeOrders(1));
  const proxy: TcpProxy = await startTcpProxy(env.config.temporal.address);
  const a = await startWorker(env, {
    sandbox: sbx,
    callTimeoutMs: 30_000,
    reconcileGraceMs: 2000,
    temporalAddress: proxy.address,
  });
  let b: RunningWorker | undefined;
  try {
    const handle = await startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }));
    await waitFor('row 1 create sent by worker A', async () => {
      const [r] = await ledgerRows(handle.workflowId);
      return r && r.creates_sent > 0 ? r : undefined;
    });
    proxy.partition();
    b = await startWorker(env, { sandbox: sbx, callTimeoutMs: opts.bCallTimeoutMs, reconcileGraceMs: 1000 });
    const result = await handle.result();
    return { sbx, handle, result, a, b, proxy };
  } catch (err) {
    proxy.heal();
    await b?.stop();
    await a.stop();
    await proxy.close();
    throw err;
  }
}

test('a stale attempt (worker cut off from Temporal) is still inside its create: the new attempt waits it out and adopts it', async () => {
  const run = await staleAttempt({
    label: 'stale',
    bCallTimeoutMs: 30_000,
    rules: [{ tool: 'create_shipment', fault: 'slow', ms: 25_000, times: 1, perReference: true }],
  });
  try {
    const { sbx, handle, result } = run;
    assert.equal(result.phase, 'completed');
    assert.equal(result.counts.shipped, 1);
    const [row] = await ledgerRows(handle.workflowId);
    // Worker A's create (25 s at UPS) has been answered: every create there was is in the call log.
    await waitFor('worker A’s create answered', () =>
      Promise.resolve(
        readCallLog(sbx.dataDir).some((c) => c.tool === 'create_shipment' && (c.slowMs ?? 0) >= 25_000)
          ? true
          : undefined,
      ),
    );
    assert.equal(callsPerReference(sbx.dataDir).get(row!.reference), 1, 'attempt 2 never created');
    assert.equal(shipmentsPerReference(sbx.dataDir).get(row!.reference), 1, 'one shipment');
    assert.ok(row!.claim >= 2, `a second attempt claimed the row (claim ${row!.claim})`);
    assert.equal(result.extraShipments, undefined);
    assertLedgerIsUps(sbx.dataDir, result, [row!]);
  } finally {
    run.proxy.heal();
    await run.b.stop();
    await run.a.stop();
    await run.proxy.close();
  }
});

test("a superseded attempt's shipment that lands anyway is an extra shipment: recorded, voided, shown in the result", async () => {
  // B believes calls end after 15 s, so it creates (at ~21 s) while A's create (25 s) is still being made;
  // B's own create takes 8 s, so A's lands first and becomes the row's, and B's is the extra one.
  const run = await staleAttempt({
    label: 'extra',
    bCallTimeoutMs: 15_000,
    rules: [
      { tool: 'create_shipment', fault: 'slow', ms: 25_000, times: 1, perReference: true },
      { tool: 'create_shipment', fault: 'slow', ms: 8_000, times: 1, perReference: true },
    ],
  });
  try {
    const { sbx, handle, result } = run;
    assert.equal(result.phase, 'completed');
    assert.equal(result.counts.shipped, 1);
    const [row] = await ledgerRows(handle.workflowId);
    assert.equal(shipmentsPerReference(sbx.dataDir).get(row!.reference), 2, 'UPS made two shipments');
    assert.deepEqual(result.extraShipments, { found: 1, voided: 1, notVoided: 0 });
    const { rows: extras } = await env.pool.query<{ shipment_id: string; status: string; row_no: number }>(
      'SELECT shipment_id, status, row_no FROM extra_shipments WHERE batch_id = $1',
      [handle.workflowId],
    );
    assert.equal(extras.length, 1);
    assert.equal(extras[0]!.row_no, 1);
    assert.equal(extras[0]!.status, 'voided');
    assert.notEqual(extras[0]!.shipment_id, row!.shipment_id, 'the extra is not the row’s shipment');
    const voided = readShipments(sbx.dataDir).find((s) => s.shipmentId === extras[0]!.shipment_id);
    assert.ok(voided?.voidedAt, 'the extra shipment is voided at UPS');
    // `shipbatch rows` (and batchRows) list it with the row.
    const [listed] = await readRows(env.pool, handle.workflowId);
    assert.deepEqual(
      listed!.extraShipments.map((e) => [e.shipmentId, e.status]),
      [[extras[0]!.shipment_id, 'voided']],
    );
    assertLedgerIsUps(sbx.dataDir, result, [row!]);
  } finally {
    run.proxy.heal();
    await run.b.stop();
    await run.a.stop();
    await run.proxy.close();
  }
});

test('cancel while restarted needs-review rows wait to reconcile: every row settles (found → shipped), none created, none left in flight', async () => {
  const sbx = env.sandboxClient('cancel-restart');
  await sbx.ups.close();
  // Every create lands but its answer is lost; label recovery is refused: every row needs review.
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({
      rules: [
        { tool: 'create_shipment', fault: 'timeout_after_create', times: 1, perReference: true },
        { tool: 'recover_label', fault: 'invalid_request', times: 100_000 },
      ],
    }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(4));
  const w = await startWorker(env, { sandbox: sbx, callTimeoutMs: 3000, reconcileGraceMs: 1000 });
  try {
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { concurrency: 1 } }),
    );
    const waiting = await waitForStatus(handle, inPhase('awaiting_action'), 120_000);
    assert.equal(waiting.counts.needsReview, 4);
    // Recovery works again, slowly (1.5 s a lookup): the restart puts all 4 rows in flight, one reconciles.
    writeFileSync(
      sbx.knobsFile,
      JSON.stringify({ rules: [{ tool: 'recover_label', fault: 'slow', ms: 1500, times: 100_000 }] }),
    );
    await handle.signal(restartSignal, { scope: 'needs_review' });
    await waitFor('the restart applied', async () => {
      const rows = await ledgerRows(handle.workflowId);
      return rows.every((r) => r.status === 'in_flight') ? true : undefined;
    });
    await handle.signal(cancelSignal, { reason: 'stop' });
    const result = await handle.result();
    assert.equal(result.phase, 'cancelled');
    const rows = await ledgerRows(handle.workflowId);
    assert.deepEqual(
      rows.map((r) => r.status),
      ['shipped', 'shipped', 'shipped', 'shipped'],
      'each row existed at UPS: found and recorded',
    );
    const creates = callsPerReference(sbx.dataDir);
    for (const r of rows)
      assert.equal(creates.get(r.reference), 1, `row ${r.row_no}: no create after the cancel`);
    assertLedgerIsUps(sbx.dataDir, result, rows);
  } finally {
    await w.stop();
  }
});

test('cancel while rows are refused with 429 and retried: no create leaves after the cancel; every row cancelled', async () => {
  const sbx = env.sandboxClient('cancel-429');
  await sbx.ups.close();
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({
      retryAfterSeconds: 1,
      rules: [{ tool: 'create_shipment', fault: 'rate_limit', times: 100_000 }],
    }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(3));
  const w = await startWorker(env, { sandbox: sbx, callTimeoutMs: 3000, reconcileGraceMs: 1000 });
  try {
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { concurrency: 3 } }),
    );
    await waitFor('each row refused twice', () =>
      Promise.resolve(
        readCallLog(sbx.dataDir).filter((c) => c.tool === 'create_shipment').length >= 6 ? true : undefined,
      ),
    );
    await handle.signal(cancelSignal, { reason: 'UPS is refusing us' });
    const result = await handle.result();
    assert.equal(result.phase, 'cancelled');
    assert.equal(result.counts.cancelled, 3);
    const { rows: b } = await env.pool.query<{ at: Date }>(
      'SELECT cancel_requested_at AS at FROM batches WHERE batch_id = $1',
      [handle.workflowId],
    );
    const cancelAt = b[0]!.at.getTime();
    const late = readCallLog(sbx.dataDir).filter(
      (c) => c.tool === 'create_shipment' && Date.parse(c.at) > cancelAt + 100,
    );
    assert.deepEqual(late, [], 'no create sent after the cancel reached the ledger');
    // Retried rows were put back to pending, never sent again: nothing exists at UPS.
    assert.equal(readShipments(sbx.dataDir).length, 0);
    assertLedgerIsUps(sbx.dataDir, result, await ledgerRows(handle.workflowId));
  } finally {
    await w.stop();
  }
});

test('cancel {voidShipped} with rows needing review: they reconcile, are found shipped, and are voided too', async () => {
  const sbx = env.sandboxClient('cancel-void-review');
  await sbx.ups.close();
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({
      rules: [
        { tool: 'create_shipment', fault: 'timeout_after_create', times: 1, perReference: true },
        { tool: 'recover_label', fault: 'invalid_request', times: 100_000 },
      ],
    }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(2));
  const w = await startWorker(env, { sandbox: sbx, callTimeoutMs: 3000, reconcileGraceMs: 1000 });
  try {
    const handle = await startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }));
    const waiting = await waitForStatus(handle, inPhase('awaiting_action'), 120_000);
    assert.equal(waiting.counts.needsReview, 2);
    writeFileSync(sbx.knobsFile, '{}');
    await handle.signal(cancelSignal, { reason: 'wrong batch', voidShipped: true });
    const result = await handle.result();
    assert.equal(result.phase, 'cancelled');
    assert.equal(result.counts.voided, 2);
    assert.equal(result.counts.needsReview, 0);
    const rows = await ledgerRows(handle.workflowId);
    for (const r of rows) assert.equal(liveShipmentsPerReference(sbx.dataDir).get(r.reference) ?? 0, 0);
    assert.equal(readShipments(sbx.dataDir).length, 2, 'each row shipped once, then voided');
    assertLedgerIsUps(sbx.dataDir, result, rows);
  } finally {
    await w.stop();
  }
});

test('label recovery refused twice with 429, then answers: the lookup is retried inside the attempt, the row ships, no review', async () => {
  const sbx = env.sandboxClient('lookup-retry');
  await sbx.ups.close();
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({
      retryAfterSeconds: 1,
      rules: [
        { tool: 'create_shipment', fault: 'timeout_after_create', times: 1, perReference: true },
        { tool: 'recover_label', fault: 'rate_limit', times: 2, perReference: true },
      ],
    }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(2));
  const w = await startWorker(env, { sandbox: sbx, callTimeoutMs: 3000, reconcileGraceMs: 1000 });
  try {
    const handle = await startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }));
    const result = await handle.result();
    assert.equal(result.phase, 'completed');
    assert.equal(result.counts.shipped, 2);
    assert.equal(result.counts.needsReview, 0);
    const rows = await ledgerRows(handle.workflowId);
    const refused = readCallLog(sbx.dataDir).filter(
      (c) => c.tool === 'recover_label' && c.outcome === 'fault',
    );
    for (const r of rows) {
      assert.equal(
        refused.filter((c) => c.reference === r.reference).length,
        2,
        `row ${r.row_no}: refused twice`,
      );
      assert.equal(callsPerReference(sbx.dataDir).get(r.reference), 1, `row ${r.row_no}: one create`);
    }
    assertLedgerIsUps(sbx.dataDir, result, rows);
  } finally {
    await w.stop();
  }
});

test('with a UPS server that may run calls after their timeout (shared HTTP), a row not found is left for review, never created blind', async () => {
  const sbx = env.sandboxClient('never-recreate');
  await sbx.ups.close();
  // The create is recorded but UPS shows it only after 60 s: "not found" all through the grace.
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({
      recoverVisibleAfterMs: 60_000,
      rules: [{ tool: 'create_shipment', fault: 'timeout_after_create', times: 1, perReference: true }],
    }),
  );
  const table = await createOrdersTable(env.pool, makeOrders(1));
  const w = await startWorker(env, {
    sandbox: sbx,
    callTimeoutMs: 2000,
    reconcileGraceMs: 1000,
    recreateAfterGrace: false,
  });
  try {
    const handle = await startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }));
    const waiting = await waitForStatus(handle, inPhase('awaiting_action'), 60_000);
    assert.equal(waiting.counts.needsReview, 1);
    const [row] = await ledgerRows(handle.workflowId);
    assert.equal(callsPerReference(sbx.dataDir).get(row!.reference), 1, 'no second create');
    const { rows } = await env.pool.query<{ review_reason: string }>(
      'SELECT review_reason FROM batch_rows WHERE batch_id = $1',
      [handle.workflowId],
    );
    assert.match(
      rows[0]!.review_reason,
      /not found at UPS, but the UPS server may still run an earlier create/,
    );
    await handle.signal(cancelSignal, { reason: 'done' });
    await handle.result();
  } finally {
    await w.stop();
  }
});

/**
 * The batch workflow, part 1: modes, approval, preview, refused messages, what the Web UI
 * shows, and that no row data reaches workflow history. Real dev server, real PostgreSQL, the sandbox
 * over MCP (stdio), real activities.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import {
  approveSignal,
  approveUpdate,
  previewQuery,
  rejectSignal,
  setModeSignal,
  setModeUpdate,
} from '../../domain/messages';
import { callsPerReference, readCallLog } from '../../ups-sandbox/call-log';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import {
  batchInput,
  createOrdersTable,
  inPhase,
  makeOrders,
  startBatch,
  waitForStatus,
} from '../helpers/batch';
import { SHIP_BATCH_MODE, SHIP_BATCH_PHASE, SHIP_BATCH_ROWS } from '../../domain/search-attributes';

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('batch-approval');
});
after(async () => {
  await env?.close();
});

/** The history's JSON with every payload's base64 `data` decoded, so a search sees what it holds. */
function decodedHistory(json: string): string {
  const parts: string[] = [json];
  JSON.parse(json, (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string')
      parts.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return parts.join('\n');
}

const creates = (dataDir: string) => readCallLog(dataDir).filter((c) => c.tool === 'create_shipment').length;

test('auto mode never waits: every valid row ships once, invalid rows are never sent, the UI fields are set', async () => {
  const sbx = env.sandboxClient('auto');
  const orders = makeOrders(8, (i, o) => {
    if (i === 2) o.zip = 'ABCDE'; // invalid US ZIP: never sent to UPS
    if (i === 5) o.service = 'teleport'; // unknown service code
  });
  const table = await createOrdersTable(env.pool, orders);
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { mode: 'auto', name: 'auto run' }),
      );
      const result = await handle.result();
      assert.equal(result.phase, 'completed_with_errors');
      assert.equal(result.counts.total, 8);
      assert.equal(result.counts.invalid, 2);
      assert.equal(result.counts.shipped, 6);
      assert.equal(result.counts.pending, 0);

      // Ledger = result = sandbox: one create per valid reference, none for invalid rows.
      const { rows } = await env.pool.query<{
        row_no: number;
        status: string;
        reference: string;
        cost_cents: string | null;
      }>('SELECT row_no, status, reference, cost_cents FROM batch_rows WHERE batch_id = $1 ORDER BY row_no', [
        handle.workflowId,
      ]);
      const perRef = callsPerReference(sbx.dataDir);
      for (const r of rows) {
        assert.equal(
          perRef.get(r.reference) ?? 0,
          r.status === 'shipped' ? 1 : 0,
          `row ${r.row_no} (${r.status})`,
        );
      }
      assert.deepEqual(
        rows.filter((r) => r.status === 'invalid').map((r) => r.row_no),
        [3, 6],
      );
      const ledgerCents = rows.reduce((sum, r) => sum + Number(r.cost_cents ?? 0), 0);
      assert.equal(result.totalCostCents, ledgerCents);
      assert.ok(ledgerCents > 0);
      const { rows: invalidErrors } = await env.pool.query<{ errors: { path: string }[] }>(
        `SELECT errors FROM batch_rows WHERE batch_id = $1 AND row_no = 3`,
        [handle.workflowId],
      );
      assert.ok(
        invalidErrors[0]!.errors.some((e) => /PostalCode/.test(e.path)),
        'the error names the path',
      );

      // What the Web UI shows: search attributes, summary, current details.
      const desc = await handle.describe();
      assert.equal(desc.typedSearchAttributes.get(SHIP_BATCH_PHASE), 'completed_with_errors');
      assert.equal(desc.typedSearchAttributes.get(SHIP_BATCH_MODE), 'auto');
      assert.equal(desc.typedSearchAttributes.get(SHIP_BATCH_ROWS), 8);
      assert.match((await desc.staticSummary()) ?? '', /^Batch auto run/);

      // No row data in history: names, streets and cities stay in the ledger.
      const history = decodedHistory(historyToJSON(await handle.fetchHistory()));
      for (const o of orders) {
        for (const value of [o.name, o.address1, o.order_id]) {
          assert.ok(!history.includes(value), `history must not contain ${JSON.stringify(value)}`);
        }
      }
      assert.match(history, /ship row 1/, 'activity summaries name the row');
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('confirm mode waits for approval; a stale hash and bad messages are refused, recorded, and harmless', async () => {
  const sbx = env.sandboxClient('confirm');
  const table = await createOrdersTable(env.pool, makeOrders(5));
  await env.withWorker(
    async () => {
      const handle = await startBatch(env.client, env.taskQueue, batchInput(table));
      const waiting = await waitForStatus(handle, inPhase('awaiting_approval'));
      assert.equal(waiting.mode, 'confirm');
      assert.equal(waiting.modeLocked, false);
      assert.ok(waiting.previewHash);
      assert.equal(creates(sbx.dataDir), 0, 'nothing ships before approval');
      const preview = await handle.query(previewQuery);
      assert.equal(preview?.previewHash, waiting.previewHash);
      assert.equal(preview?.validRows, 5);

      // Refusals: a stale hash and an unknown mode, by signal (recorded) and by update (answered).
      await handle.signal(approveSignal, { previewHash: 'not-the-hash', by: 'mallory' });
      await handle.signal(setModeSignal, { mode: 'turbo' });
      await handle.signal(setModeSignal, 'auto' as never); // not even an object
      await assert.rejects(
        handle.executeUpdate(approveUpdate, { args: [{ previewHash: 'stale' }] }),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError && /stale approval/.test(String(err.cause?.message)),
      );
      const refused = await waitForStatus(handle, (s) => s.rejectedMessages.length >= 3);
      assert.equal(refused.phase, 'awaiting_approval');
      assert.match(refused.rejectedMessages[0]!.reason, /stale approval/);
      assert.equal(refused.rejectedMessages[0]!.name, 'approve');
      assert.match(refused.rejectedMessages[1]!.reason, /mode must be "confirm" or "auto"/);
      assert.match(refused.rejectedMessages[2]!.reason, /bad arguments/);

      const approved = await handle.executeUpdate(approveUpdate, {
        args: [{ previewHash: waiting.previewHash, by: 'alice' }],
      });
      assert.equal(approved.approval?.by, 'alice');
      const result = await handle.result();
      assert.equal(result.phase, 'completed');
      assert.equal(result.counts.shipped, 5);
      assert.equal(creates(sbx.dataDir), 5);

      // Mode is locked once executing: refused through the update (closed workflow: rejected outright).
      await assert.rejects(handle.executeUpdate(setModeUpdate, { args: [{ mode: 'auto' }] }));
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('setMode is refused once executing, recorded in status, and the batch is unharmed', async () => {
  const sbx = env.sandboxClient('locked');
  await import('node:fs').then((fs) =>
    fs.writeFileSync(sbx.knobsFile, JSON.stringify({ latency: { kind: 'fixed', ms: 300 } })),
  );
  const table = await createOrdersTable(env.pool, makeOrders(6));
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { options: { concurrency: 1 } }),
      );
      const s = await waitForStatus(handle, inPhase('awaiting_approval'));
      await handle.signal(approveSignal, { previewHash: s.previewHash });
      await waitForStatus(handle, (x) => x.phase === 'executing' && x.counts.shipped >= 1);
      await assert.rejects(
        handle.executeUpdate(setModeUpdate, { args: [{ mode: 'CONFIRM' }] }),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError && /mode is locked/.test(String(err.cause?.message)),
      );
      await handle.signal(setModeSignal, { mode: 'Auto' });
      const after = await waitForStatus(handle, (x) => x.rejectedMessages.some((m) => m.name === 'setMode'));
      assert.match(after.rejectedMessages.find((m) => m.name === 'setMode')!.reason, /mode is locked/);
      assert.equal(after.modeLocked, true);
      assert.equal(after.mode, 'confirm');
      const result = await handle.result();
      assert.equal(result.phase, 'completed');
      assert.equal(result.counts.shipped, 6);
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('confirm → auto while waiting proceeds without an approval', async () => {
  const sbx = env.sandboxClient('switch');
  const table = await createOrdersTable(env.pool, makeOrders(3));
  await env.withWorker(
    async () => {
      const handle = await startBatch(env.client, env.taskQueue, batchInput(table));
      await waitForStatus(handle, inPhase('awaiting_approval'));
      const switched = await handle.executeUpdate(setModeUpdate, { args: [{ mode: 'AUTO' }] });
      assert.equal(switched.mode, 'auto');
      const result = await handle.result();
      assert.equal(result.phase, 'completed');
      assert.equal(result.counts.shipped, 3);
      const desc = await handle.describe();
      assert.equal(desc.typedSearchAttributes.get(SHIP_BATCH_MODE), 'auto');
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('reject ships nothing; an approval timeout expires the batch with zero shipments', async () => {
  const sbx = env.sandboxClient('reject');
  const table = await createOrdersTable(env.pool, makeOrders(4));
  await env.withWorker(
    async () => {
      const rejected = await startBatch(env.client, env.taskQueue, batchInput(table));
      await waitForStatus(rejected, inPhase('awaiting_approval'));
      await rejected.signal(rejectSignal, { reason: 'wrong carrier' });
      const r1 = await rejected.result();
      assert.equal(r1.phase, 'rejected');
      assert.equal(r1.counts.cancelled, 4);
      assert.equal(r1.counts.shipped, 0);

      const expiring = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { options: { approvalTimeout: '2s' } }),
      );
      const r2 = await expiring.result();
      assert.equal(r2.phase, 'expired');
      assert.equal(r2.counts.shipped, 0);
      assert.equal(creates(sbx.dataDir), 0, 'zero create_shipment calls in the sandbox log');
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('an empty source ends cleanly: zero rows, zero cost, no UPS call', async () => {
  const sbx = env.sandboxClient('empty');
  const table = await createOrdersTable(env.pool, []);
  await env.withWorker(
    async () => {
      const handle = await startBatch(env.client, env.taskQueue, batchInput(table));
      const result = await handle.result();
      assert.equal(result.phase, 'completed');
      assert.equal(result.counts.total, 0);
      assert.equal(result.totalCostCents, 0);
      assert.equal(readCallLog(sbx.dataDir).length, 0);
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

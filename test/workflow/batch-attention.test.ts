/**
 * Bounds of the attention phase: what a long attention phase or a large batch reaches. The attention phase continues as
 * new after `updatesPerRun` Updates and keeps its counts; operator-resolved rows carry an estimated cost;
 * waits beyond what a batch may wait (3650d) are refused at start; the list of refused voids that goes
 * into history is bounded. Real dev server, PostgreSQL and sandbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import {
  ApplicationFailure,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { BatchInputArg } from '../../domain/batch';
import { cancelSignal, finishSignal, resolveUpdate, statusQuery } from '../../domain/messages';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import { MAX_PROBLEMS } from '../../activities/batch/operations';
import { ShipbatchClient } from '../../client/batches';
import { BatchInputError } from '../../client/errors';
import { readCallLog, shipmentsPerReference } from '../../ups-sandbox/call-log';
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
  env = await openTestEnvironment('batch-attention');
});
after(async () => {
  await env?.close();
});

/** A ZIP in no city of makeOrders: the sandbox rejects it (knob rejectPostalCodes) and only it. */
const BAD_ZIP = '80203';

interface LedgerRow {
  row_no: number;
  status: string;
  reference: string;
  request: ShipmentRequestBody | null;
  tracking_numbers: string[] | null;
  cost_cents: string | null;
  cost_estimated: boolean;
  resolved_by: string | null;
}

async function ledgerRows(batchId: string): Promise<LedgerRow[]> {
  const { rows } = await env.pool.query<LedgerRow>(
    `SELECT row_no, status, reference, request, tracking_numbers, cost_cents, cost_estimated, resolved_by
       FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
    [batchId],
  );
  return rows;
}

async function runIds(workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const w of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runs.push(w.runId);
  return runs;
}

/** Poll visibility until `pred(runs)` holds (visibility lags the server by a moment). */
async function waitForRuns(workflowId: string, pred: (n: number) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let runs = await runIds(workflowId);
  while (!pred(runs.length) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    runs = await runIds(workflowId);
  }
  return runs;
}

function batchId(prefix: string): string {
  return `batch-${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The Web UI's current details of a batch (the SDK's built-in metadata query). */
async function currentDetails(handle: { query: WorkflowHandle['query'] }): Promise<string> {
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return meta.currentDetails ?? '';
}

/** The workflow failed at start with InvalidBatchInput whose message matches `why`. */
function invalidInput(why: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = err.cause;
    assert.ok(cause instanceof ApplicationFailure, `an ApplicationFailure: ${String(cause)}`);
    assert.equal(cause.type, 'InvalidBatchInput');
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, why);
    return true;
  };
}

test('resolve Updates in awaiting_action hand over to a new run after updatesPerRun, counts kept; resolved rows carry an estimated cost', async () => {
  const sbx = env.sandboxClient('resolve');
  writeFileSync(sbx.knobsFile, JSON.stringify({ rejectPostalCodes: [BAD_ZIP] }));
  const failing = new Set([2, 4, 5]); // row numbers (1-based) whose ZIP UPS rejects
  const table = await createOrdersTable(
    env.pool,
    makeOrders(6, (i, o) => {
      if (failing.has(i + 1)) o.zip = BAD_ZIP;
    }),
  );
  const id = batchId('tattention');
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { mode: 'auto', options: { concurrency: 3, updatesPerRun: 2 } }),
        id,
      );
      const waiting = await waitForStatus(handle, inPhase('awaiting_action'));
      assert.equal(waiting.counts.failed, 3);
      assert.equal(waiting.counts.shipped, 3);
      const before = await ledgerRows(id);
      assert.deepEqual(
        before.filter((r) => r.status === 'failed').map((r) => r.row_no),
        [...failing],
      );
      assert.equal((await waitForRuns(id, (n) => n >= 1)).length, 1, 'one run so far');
      // The Web UI's current details name the failed rows and the payloads that act on them.
      const details = await currentDetails(handle);
      assert.match(details, /Failed 3: rows 2, 4, 5\. `restart` with `\{"scope":"failed"\}`/);
      assert.match(details, /`finish` with `\{\}`/);

      // The operator shipped them by hand with a corrected address: UPS now rates them.
      writeFileSync(sbx.knobsFile, '{}');
      const tracking = new Map([...failing].map((row, i) => [row, `1ZOPERATOR0${i}12345678`]));
      const resolve = (row: number) =>
        handle.executeUpdate(resolveUpdate, {
          args: [{ row, outcome: 'shipped', trackingNumber: tracking.get(row)! }],
        });
      const [r1, r2, r3] = [...failing];

      const s1 = await resolve(r1!);
      assert.equal(s1.phase, 'awaiting_action');
      // Current details follow the actions (applied by the workflow after the Update answered).
      await waitForStatus(handle, (s) => s.counts.failed === 2);
      assert.match(await currentDetails(handle), /Failed 2: rows 4, 5\./);
      const s2 = await resolve(r2!);
      assert.equal(s2.phase, 'awaiting_action');
      // Two Updates: the run hands over to a new one, which keeps waiting with the same counts.
      const runs = await waitForRuns(id, (n) => n >= 2);
      assert.equal(runs.length, 2, `handed over after ${2} Updates: ${runs.length} runs`);
      const mid = await waitForStatus(handle, (s) => s.counts.shipped === 5);
      assert.equal(mid.phase, 'awaiting_action');
      assert.equal(mid.counts.total, 6);
      assert.equal(mid.counts.failed, 1);
      assert.equal(mid.counts.inFlight, 0);

      // The last Update reaches the new run.
      const s3 = await resolve(r3!);
      assert.equal(s3.phase, 'awaiting_action');
      const result = await handle.result();
      assert.equal(result.phase, 'completed', JSON.stringify(result));
      assert.equal(result.counts.total, 6);
      assert.equal(result.counts.shipped, 6);
      assert.equal(result.counts.failed, 0);
      assert.equal(result.estimatedCostRows, 3, 'the three operator-resolved rows have an estimated cost');
      assert.equal((await waitForRuns(id, (n) => n > 2, 2_000)).length, 2, 'exactly one hand-over');

      const rows = await ledgerRows(id);
      assert.ok(rows.every((r) => r.status === 'shipped'));
      assert.equal(
        result.totalCostCents,
        rows.reduce((s, r) => s + Number(r.cost_cents ?? 0), 0),
        'result total = ledger total',
      );
      const shipments = shipmentsPerReference(sbx.dataDir);
      for (const r of rows) {
        if (failing.has(r.row_no)) {
          assert.equal(r.resolved_by, 'operator', `row ${r.row_no}`);
          assert.deepEqual(r.tracking_numbers, [tracking.get(r.row_no)]);
          assert.equal(r.cost_estimated, true, `row ${r.row_no}: cost marked estimated`);
          assert.ok(Number(r.cost_cents) > 0, `row ${r.row_no}: cost ${r.cost_cents}`);
          // The estimate is UPS's rate quote for the row's own request.
          const quote = await sbx.ups.rateShipmentRequest(r.request!);
          assert.equal(Number(r.cost_cents), quote.totalCents, `row ${r.row_no}: estimate = rate quote`);
          assert.equal(shipments.get(r.reference) ?? 0, 0, `row ${r.row_no}: never created by the batch`);
        } else {
          assert.equal(r.cost_estimated, false, `row ${r.row_no}: UPS's own charges`);
          assert.ok(Number(r.cost_cents) > 0);
          assert.equal(shipments.get(r.reference), 1, `row ${r.row_no}: shipped once`);
        }
      }
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('a burst of concurrent resolve Updates across the hand-over: each applied once, none lost', async () => {
  const sbx = env.sandboxClient('burst');
  writeFileSync(sbx.knobsFile, JSON.stringify({ rejectPostalCodes: [BAD_ZIP] }));
  const table = await createOrdersTable(
    env.pool,
    makeOrders(10, (i, o) => {
      if (i >= 2) o.zip = BAD_ZIP;
    }),
  );
  const id = batchId('tburst');
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { mode: 'auto', options: { updatesPerRun: 2 } }),
        id,
      );
      const waiting = await waitForStatus(handle, inPhase('awaiting_action'));
      assert.equal(waiting.counts.failed, 8);
      writeFileSync(sbx.knobsFile, '{}');
      const failed = [3, 4, 5, 6, 7, 8, 9, 10];
      const answers = await Promise.all(
        failed.map((row) =>
          handle.executeUpdate(resolveUpdate, {
            args: [{ row, outcome: 'shipped', trackingNumber: `1ZBURST${row}0000000` }],
          }),
        ),
      );
      assert.ok(answers.every((s) => s.phase === 'awaiting_action'));
      const result = await handle.result();
      assert.equal(result.phase, 'completed', JSON.stringify(result));
      assert.equal(result.counts.shipped, 10);
      assert.equal(result.estimatedCostRows, 8);
      assert.ok((await waitForRuns(id, (n) => n >= 2)).length >= 2, 'handed over at least once');
      const rows = await ledgerRows(id);
      for (const row of failed) {
        const r = rows.find((x) => x.row_no === row)!;
        assert.equal(r.status, 'shipped');
        assert.deepEqual(r.tracking_numbers, [`1ZBURST${row}0000000`]);
      }
      const status = await handle.query(statusQuery);
      assert.deepEqual(status.rejectedMessages, [], 'no resolve refused or applied twice');
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('a wait longer than 3650d is refused at start (workflow and typed client); 3650d itself works', async () => {
  const sbx = env.sandboxClient('timeouts');
  writeFileSync(sbx.knobsFile, JSON.stringify({ rejectPostalCodes: [BAD_ZIP] }));
  const table = await createOrdersTable(
    env.pool,
    makeOrders(2, (i, o) => {
      if (i === 1) o.zip = BAD_ZIP;
    }),
  );
  const client = await ShipbatchClient.connect({ config: env.config });
  try {
    await env.withWorker(
      async () => {
        const refused: [BatchInputArg['options'], RegExp][] = [
          [{ approvalTimeout: '999999999d' }, /options\.approvalTimeout: at most 3650 days/],
          [{ approvalTimeout: '3651d' }, /options\.approvalTimeout: at most 3650 days/],
          [{ attentionTimeout: '999999999d' }, /options\.attentionTimeout: at most 3650 days/],
          [{ attentionTimeout: '87601h' }, /options\.attentionTimeout: at most 3650 days/],
        ];
        for (const [options, why] of refused) {
          // Started straight through Temporal: the workflow refuses before it records or loads anything.
          const raw = batchId('ttimeout');
          const handle = await startBatch(env.client, env.taskQueue, batchInput(table, { options }), raw);
          await assert.rejects(handle.result(), invalidInput(why));
          const { rows } = await env.pool.query('SELECT 1 FROM batches WHERE batch_id = $1', [raw]);
          assert.equal(rows.length, 0, `${raw}: nothing recorded`);

          // The typed client refuses before starting anything.
          const typed = batchId('ttimeout');
          await assert.rejects(
            client.startBatch(batchInput(table, { options }), { id: typed, taskQueue: env.taskQueue }),
            (err: unknown) => {
              assert.ok(err instanceof BatchInputError, String(err));
              assert.match(err.message, why);
              return true;
            },
          );
          await assert.rejects(env.client.workflow.getHandle(typed).describe(), WorkflowNotFoundError);
        }

        // The bound itself is accepted: a 3650d approval wait and a 3650d attention wait both start their timers.
        const ok = await client.startBatch(
          batchInput(table, { options: { approvalTimeout: '3650d', attentionTimeout: '3650d' } }),
          { id: batchId('tbound'), taskQueue: env.taskQueue },
        );
        const handle = env.client.workflow.getHandle(ok.batchId);
        const s = await waitForStatus(handle, inPhase('awaiting_approval'));
        await client.approveBatch(ok.batchId, { previewHash: s.previewHash, by: 'test' });
        const waiting = await waitForStatus(handle, inPhase('awaiting_action'));
        assert.equal(waiting.counts.failed, 1);
        await handle.signal(finishSignal, {});
        const result = await client.batchResult(ok.batchId);
        assert.equal(result.phase, 'completed_with_errors');
        assert.equal(result.counts.shipped, 1);
      },
      { ups: sbx.ups },
    );
  } finally {
    await client.close();
    await sbx.ups.close();
  }
});

test('cancel {voidShipped} where UPS refuses every void: the refusals in status are bounded, the last line counts the rest', async () => {
  const sbx = env.sandboxClient('voids');
  writeFileSync(sbx.knobsFile, JSON.stringify({ rejectPostalCodes: [BAD_ZIP] }));
  const rowsTotal = 25;
  // One row fails, so the batch waits in awaiting_action with 24 rows shipped.
  const table = await createOrdersTable(
    env.pool,
    makeOrders(rowsTotal, (i, o) => {
      if (i === 12) o.zip = BAD_ZIP;
    }),
  );
  const id = batchId('tvoids');
  await env.withWorker(
    async () => {
      const handle = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(table, { mode: 'auto', options: { concurrency: 8 } }),
        id,
      );
      const waiting = await waitForStatus(handle, inPhase('awaiting_action'));
      const shipped = rowsTotal - 1;
      assert.equal(waiting.counts.shipped, shipped);
      assert.equal(waiting.counts.failed, 1);
      assert.deepEqual(waiting.rejectedMessages, []);

      // UPS refuses every void from now on.
      writeFileSync(
        sbx.knobsFile,
        JSON.stringify({ rules: [{ tool: 'void_shipment', fault: 'server_error', times: 100_000 }] }),
      );
      await handle.signal(cancelSignal, { reason: 'wrong pickup date', voidShipped: true });
      const result = await handle.result();
      assert.equal(result.phase, 'cancelled');
      assert.equal(result.counts.shipped, shipped, 'no void went through');
      assert.equal(result.counts.voided, 0);
      assert.equal(result.counts.cancelled, 1, 'the failed row is cancelled');

      const status = await handle.query(statusQuery);
      const lines = status.rejectedMessages.filter((m) => m.name === 'cancel');
      assert.equal(status.rejectedMessages.length, lines.length, 'only the void refusals were recorded');
      assert.equal(lines.length, MAX_PROBLEMS + 1, `${MAX_PROBLEMS} refusals and one line for the rest`);
      assert.equal(lines.length, 21);
      const listed = lines.slice(0, -1);
      for (const l of listed) assert.match(l.reason, /^row \d+: void refused: /);
      const rowNos = listed.map((l) => Number(/^row (\d+)/.exec(l.reason)![1]));
      assert.equal(new Set(rowNos).size, MAX_PROBLEMS, 'each listed row once');
      const rest = shipped - MAX_PROBLEMS;
      assert.equal(rest, 4);
      assert.match(lines.at(-1)!.reason, new RegExp(`^… and ${rest} more \\(.*shipbatch rows ${id}.*\\)$`));

      // UPS was asked once per shipped row, and its record agrees: every shipment is still live.
      const voids = readCallLog(sbx.dataDir).filter((c) => c.tool === 'void_shipment');
      assert.equal(voids.length, shipped);
      const { rows } = await env.pool.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM batch_rows WHERE batch_id = $1 GROUP BY status ORDER BY status`,
        [id],
      );
      assert.deepEqual(
        rows.map((r) => [r.status, r.n]),
        [
          ['cancelled', 1],
          ['shipped', shipped],
        ],
      );
      const perRef = shipmentsPerReference(sbx.dataDir);
      assert.equal(perRef.size, shipped);
      assert.ok([...perRef.values()].every((n) => n === 1));
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

/**
 * References (docs/exactly-once.md): two batches never share a row reference. Ids that differ only in punctuation, and long
 * ids that differ only at the start, each ship every row with references of their own (the sandbox's own
 * record: one shipment per reference); a reference the ledger already holds for another batch is refused
 * loudly — by insertRows itself, and through a workflow, whose load fails at once naming the conflict.
 * Real dev server, PostgreSQL and sandbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { BatchIdSchema, BatchInputSchema, type BatchInput, type BatchResult } from '../../domain/batch';
import { REFERENCE_MAX, rowReference } from '../../domain/reference';
import { getBatch, upsertBatch } from '../../db/ledger/batches';
import { insertRows, LedgerConflictError, type LedgerRowInsert } from '../../db/ledger/rows';
import { shipmentsPerReference } from '../../ups-sandbox/call-log';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { batchInput, createOrdersTable, makeOrders, startBatch } from '../helpers/batch';

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('batch-references');
});
after(async () => {
  await env?.close();
});

interface LedgerRow {
  row_no: number;
  status: string;
  reference: string;
  tracking_numbers: string[] | null;
}

async function ledgerRows(batchId: string): Promise<LedgerRow[]> {
  const { rows } = await env.pool.query<LedgerRow>(
    `SELECT row_no, status, reference, tracking_numbers FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
    [batchId],
  );
  return rows;
}

/** A short random tag of lowercase letters and digits. */
function tag(n = 6): string {
  return randomUUID().replace(/-/g, '').slice(0, n);
}

/**
 * Start two auto batches over two tables of their own (sizes `sizes`) with the given ids, on one sandbox;
 * both must complete with every row shipped once, under references no other row of either batch has.
 */
async function shipTwo(label: string, ids: [string, string], sizes: [number, number]): Promise<void> {
  const sbx = env.sandboxClient(label);
  const tables = [
    await createOrdersTable(env.pool, makeOrders(sizes[0]), 'ref_a'),
    await createOrdersTable(env.pool, makeOrders(sizes[1]), 'ref_b'),
  ];
  try {
    await env.withWorker(
      async () => {
        // One after the other, like the measured case: the second batch runs after the first shipped.
        const results: BatchResult[] = [];
        for (const [i, id] of ids.entries()) {
          const handle = await startBatch(
            env.client,
            env.taskQueue,
            batchInput(tables[i]!, { mode: 'auto', options: { concurrency: 4 } }),
            id,
          );
          results.push(await handle.result());
        }
        const shipments = shipmentsPerReference(sbx.dataDir);
        const seen = new Map<string, string>();
        for (const [i, id] of ids.entries()) {
          const result = results[i]!;
          assert.equal(result.batchId, id);
          assert.equal(result.phase, 'completed', `${id}: ${JSON.stringify(result)}`);
          assert.equal(result.counts.total, sizes[i], `${id}: every source row loaded`);
          assert.equal(result.counts.shipped, sizes[i], `${id}: every row shipped, none dropped`);
          const rows = await ledgerRows(id);
          assert.equal(rows.length, sizes[i], `${id}: the ledger holds every row`);
          for (const r of rows) {
            assert.equal(r.status, 'shipped', `${id} row ${r.row_no}`);
            assert.ok(r.reference.length <= REFERENCE_MAX, `${r.reference} fits UPS's 35 characters`);
            const other = seen.get(r.reference);
            assert.equal(
              other,
              undefined,
              `${id} row ${r.row_no}: reference ${r.reference} also used by ${other}`,
            );
            seen.set(r.reference, `${id} row ${r.row_no}`);
            assert.equal(shipments.get(r.reference), 1, `${id} row ${r.row_no}: one shipment at UPS`);
          }
          const { rows: keys } = await env.pool.query<{ reference_key: string }>(
            'SELECT reference_key FROM batches WHERE batch_id = $1',
            [id],
          );
          // The reference is the stored key plus the row number, nothing derived from the id alone.
          assert.deepEqual(
            rows.map((r) => r.reference),
            rows.map((r) => rowReference(keys[0]!.reference_key, r.row_no)),
          );
        }
        // Nothing else shipped: the sandbox holds exactly the two batches' rows.
        assert.equal(shipments.size, sizes[0] + sizes[1]);
        assert.equal(
          [...shipments.values()].reduce((a, b) => a + b, 0),
          sizes[0] + sizes[1],
        );
      },
      { ups: sbx.ups },
    );
  } finally {
    await sbx.ups.close();
  }
}

test('two batches whose ids differ only in punctuation each ship all their rows under references of their own', async () => {
  const t = tag();
  // Old rowReference: both were SB<t>sale-<n>, and the second batch completed with 0 shipped.
  await shipTwo('punct', [`batch-${t}_sale`, `batch-${t}-sale`], [7, 9]);
});

test('two long ids (64 characters after batch-) that differ only in their first characters each ship all their rows', async () => {
  const t = tag(8);
  const rest = `-daily-shipments-${t}-warehouse-east-region-spring-2026-run`;
  const a = `batch-a${rest}`.padEnd(70, 'x');
  const b = `batch-b${rest}`.padEnd(70, 'x');
  const c = `batch-_${a.slice(7)}`;
  const d = `batch-.${a.slice(7)}`;
  for (const id of [a, b, c, d]) {
    assert.equal(id.length, 70, id);
    assert.ok(BatchIdSchema.safeParse(id).success, `${id} is a valid batch id at the 64-character limit`);
  }
  // The old rowReference kept the end of long ids: both pairs got the same references.
  await shipTwo('long', [a, b], [6, 8]);
  // Letters and digits all the same (the reference's name part too): only the punctuation at the start differs.
  await shipTwo('long-punct', [c, d], [5, 5]);
});

// ------------------------------------------------------------------ the ledger refuses loudly

function parsedInput(table: string): BatchInput {
  return BatchInputSchema.parse(batchInput(table, { mode: 'auto' }));
}

function rowsFor(referenceKey: string, rowNos: number[], keyOffset = 0): LedgerRowInsert[] {
  return rowNos.map((n) => ({
    rowNo: n,
    sourceKey: String(n + keyOffset),
    data: { id: n + keyOffset },
    checksum: `c${n}`,
    reference: rowReference(referenceKey, n),
    request: { ShipmentRequest: {} },
  }));
}

async function referenceKeyOf(batchId: string): Promise<string> {
  const b = await getBatch(env.pool, batchId);
  assert.ok(b, `${batchId} is recorded`);
  return b.referenceKey;
}

test('insertRows: a reference another batch holds is a LedgerConflictError naming it, nothing of the page is stored; a retried page is a no-op', async () => {
  const table = await createOrdersTable(env.pool, makeOrders(1), 'ref_ledger');
  const holder = `batch-tledger-${tag()}`;
  const taker = `batch-tledger-${tag()}`;
  await upsertBatch(env.pool, holder, parsedInput(table));
  await upsertBatch(env.pool, taker, parsedInput(table));
  const holderKey = await referenceKeyOf(holder);
  const takerKey = await referenceKeyOf(taker);
  assert.notEqual(holderKey, takerKey, 'each batch has a reference key of its own');

  assert.equal(await insertRows(env.pool, holder, rowsFor(holderKey, [1, 2, 3])), 3);

  // A page of the taker whose row 2 carries a reference the holder already has.
  const page = rowsFor(takerKey, [1, 2, 3]);
  const stolen = rowReference(holderKey, 2);
  page[1] = { ...page[1]!, reference: stolen };
  await assert.rejects(insertRows(env.pool, taker, page), (err: unknown) => {
    assert.ok(err instanceof LedgerConflictError, `a LedgerConflictError, not ${String(err)}`);
    assert.match(err.message, new RegExp(taker));
    assert.match(err.message, /reference is already used by another batch/);
    assert.ok(err.message.includes(stolen), `names the reference: ${err.message}`);
    return true;
  });
  assert.deepEqual(await ledgerRows(taker), [], 'nothing of the refused page was stored');
  const holderRows = await ledgerRows(holder);
  assert.deepEqual(
    holderRows.map((r) => [r.row_no, r.reference]),
    [1, 2, 3].map((n) => [n, rowReference(holderKey, n)]),
    "the holder's rows are untouched",
  );

  // A retried page of the same batch (same row numbers, same references): nothing inserted, no error.
  assert.equal(await insertRows(env.pool, holder, rowsFor(holderKey, [1, 2, 3])), 0);
  // A retried page that goes on past what was stored: only the new rows go in.
  assert.equal(await insertRows(env.pool, holder, rowsFor(holderKey, [2, 3, 4, 5])), 2);
  assert.deepEqual(
    (await ledgerRows(holder)).map((r) => r.row_no),
    [1, 2, 3, 4, 5],
  );

  // The same source key twice in one batch is a conflict too, named as such.
  const twice = rowsFor(takerKey, [1, 2]);
  twice[1] = { ...twice[1]!, sourceKey: twice[0]!.sourceKey };
  await assert.rejects(insertRows(env.pool, taker, twice), (err: unknown) => {
    assert.ok(err instanceof LedgerConflictError);
    assert.match(err.message, /same key twice/);
    return true;
  });
  assert.deepEqual(await ledgerRows(taker), []);

  // And the taker's own clean page still loads.
  assert.equal(await insertRows(env.pool, taker, rowsFor(takerKey, [1, 2, 3])), 3);
});

test("a batch whose load meets another batch's reference fails at once, naming the conflict; nothing shipped", async () => {
  const sbx = env.sandboxClient('conflict');
  const table = await createOrdersTable(env.pool, makeOrders(4), 'ref_conflict');
  const id = `batch-tconflict-${tag()}`;
  const arg = batchInput(table, { mode: 'auto' });
  // The batch's record exists already (as a first load attempt would leave it), with its reference key…
  await upsertBatch(env.pool, id, BatchInputSchema.parse(arg));
  const key = await referenceKeyOf(id);
  // …and another batch's row holds the reference this batch's row 1 gets.
  const other = `batch-tother-${tag()}`;
  await upsertBatch(env.pool, other, parsedInput(table));
  const taken = rowReference(key, 1);
  assert.equal(
    await insertRows(env.pool, other, [
      { rowNo: 1, sourceKey: '1', data: { id: 1 }, checksum: 'x', reference: taken, request: {} },
    ]),
    1,
  );
  try {
    await env.withWorker(
      async () => {
        const started = Date.now();
        const handle = await startBatch(env.client, env.taskQueue, arg, id);
        await assert.rejects(handle.result(), (err: unknown) => {
          assert.ok(err instanceof WorkflowFailedError, String(err));
          const activity = err.cause;
          assert.ok(activity instanceof ActivityFailure, `failed by an activity: ${String(activity)}`);
          assert.equal(activity.activityType, 'loadBatch');
          assert.equal(activity.retryState, RetryState.NON_RETRYABLE_FAILURE, 'not retried');
          const cause = activity.cause;
          assert.ok(cause instanceof ApplicationFailure);
          assert.equal(cause.type, 'BatchSourceError');
          assert.match(cause.message, /reference is already used by another batch/);
          assert.ok(cause.message.includes(taken), `names the reference: ${cause.message}`);
          return true;
        });
        const elapsed = Date.now() - started;
        assert.ok(elapsed < 15_000, `failed at once, not after retries (${elapsed} ms)`);
        // One load attempt only.
        const history = await handle.fetchHistory();
        const attempts = (history.events ?? [])
          .map((e) => e.activityTaskStartedEventAttributes?.attempt)
          .filter((a): a is number => typeof a === 'number');
        assert.deepEqual(attempts, [1], 'one activity ran (the load), once');
      },
      { ups: sbx.ups },
    );
    assert.deepEqual(await ledgerRows(id), [], 'nothing of the batch was stored');
    const otherRows = await ledgerRows(other);
    assert.deepEqual(
      otherRows.map((r) => r.reference),
      [taken],
      "the other batch's row is untouched",
    );
    assert.equal(shipmentsPerReference(sbx.dataDir).size, 0, 'nothing shipped');
  } finally {
    await sbx.ups.close();
  }
});

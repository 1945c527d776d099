/**
 * The delivery-status write-back (issue 25): with `writeBack: {column, statusColumn}`, the tracking workflow
 * writes each row's delivery status, its packages taken together, into the source table as tracking learns
 * it, and writes a row again only when its status changed; a status column that cannot be written stops the
 * status write-back for the batch (kept in the ledger, said by every tracking page), never the tracking.
 * Real dev server, PostgreSQL and sandbox on its fast tracking clock.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  rowDeliveryStatus,
  trackingWorkflowId,
  type TrackingState,
  type TrackingStatus,
} from '../../domain/tracking';
import { trackedPackages } from '../../db/ledger/tracking';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { batchInput, createOrdersTable, makeOrders, startBatch, TEMPLATE } from '../helpers/batch';
import { FAST_TRACKING, trackingSandbox, trackPageResults, waitForTracking } from '../helpers/tracking';

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('tracking-write-back');
});
after(async () => {
  await env?.close();
});

const TWO_BOXES = 'two boxes';
/** The example template, with a second package alike for the orders whose item is "two boxes". */
const TEMPLATE_TWO_BOXES = TEMPLATE.replace(
  /"Package": \[(\{[\s\S]*\})\]/,
  (_, pkg: string) => `"Package": [${pkg}{% if item == "${TWO_BOXES}" %}, ${pkg}{% endif %}]`,
);

/** The batch's rows: source key, tracking numbers and the status the ledger says was written. */
async function ledgerRows(batchId: string) {
  const { rows } = await env.pool.query<{
    row_no: number;
    source_key: string;
    tracking_numbers: string[];
    delivery_status_written: string | null;
    delivery_status_pending: boolean;
  }>(
    `SELECT row_no, source_key, tracking_numbers, delivery_status_written, delivery_status_pending
       FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
    [batchId],
  );
  return rows;
}

/** The source's write-back columns by key; `status` is null when the table has no such column. */
async function sourceColumns(table: string, statusColumn: string | null) {
  const { rows } = await env.pool.query<{ id: string; tracking: string | null; status: string | null }>(
    `SELECT id::text AS id, tracking, ${statusColumn ?? 'NULL::text'} AS status FROM ${table} ORDER BY id`,
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** Followed for an hour, a look a second. */
const TRACKING = { trackFor: '1h', trackEvery: '1s' } as const;

test("every row's status column ends at its packages' final status, written as tracking learns it and only when it changes; a worker stopped mid-way loses nothing", async () => {
  assert.notEqual(TEMPLATE_TWO_BOXES, TEMPLATE, 'the template has a second package');
  const sbx = trackingSandbox(env, 'statuses');
  let worker = await sbx.startWorker();
  let polling = true;
  let poller: Promise<void> | undefined;
  try {
    // Rows 2 to 4 ship two packages each: nine packages.
    const orders = makeOrders(6, (i, o) => {
      if (i >= 1 && i <= 3) o.item = TWO_BOXES;
    });
    const table = await createOrdersTable(env.pool, orders);
    await env.pool.query(`ALTER TABLE ${table} ADD COLUMN delivery text`);
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, {
        template: TEMPLATE_TWO_BOXES,
        mode: 'auto',
        options: { ...TRACKING, writeBack: { column: 'tracking', statusColumn: 'delivery' } },
      }),
    );
    const batchId = handle.workflowId;
    assert.equal((await handle.result()).counts.shipped, 6);
    const shipped = await ledgerRows(batchId);
    assert.deepEqual(
      shipped.map((r) => r.tracking_numbers.length),
      [1, 2, 2, 2, 1, 1],
    );
    // Row 2's second package gets an address exception and row 3's first goes back to the shipper: each row
    // is what its packages together are (the others of rows 2 and 3 are delivered).
    sbx.setKnobs({
      ...FAST_TRACKING,
      trackingExceptions: {
        trackingNumbers: {
          [shipped[1]!.tracking_numbers[1]!]: 'exception',
          [shipped[2]!.tracking_numbers[0]!]: 'returned',
        },
      },
    });
    // What the source shows along the way.
    const seen = new Set<string>();
    poller = (async () => {
      while (polling) {
        for (const r of (await sourceColumns(table, 'delivery')).values()) if (r.status) seen.add(r.status);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // Mid-way, the worker goes away and another comes.
    await waitForTracking(
      env.client,
      batchId,
      (s) => s.lastCheckAt !== undefined && s.counts.label_created < 9,
    );
    await worker.stop();
    worker = await sbx.startWorker();
    await waitForTracking(
      env.client,
      batchId,
      (s) => s.counts.delivered === 7 && s.counts.returned === 1 && s.counts.exception === 1,
    );
    polling = false;
    await poller;

    // The page that stored the last final status also wrote it: the source is there already.
    const packages = await trackedPackages(env.pool, batchId);
    const source = await sourceColumns(table, 'delivery');
    const rows = await ledgerRows(batchId);
    const finals: string[] = [];
    for (const r of rows) {
      const want = rowDeliveryStatus(packages.filter((p) => p.rowNo === r.row_no).map((p) => p.status));
      finals.push(want);
      assert.equal(source.get(r.source_key)?.status, want, `row ${r.row_no}: the source holds its status`);
      assert.equal(r.delivery_status_written, want, `row ${r.row_no}: the ledger knows what was written`);
      assert.equal(r.delivery_status_pending, false, `row ${r.row_no}: nothing left to write`);
      assert.equal(source.get(r.source_key)?.tracking, r.tracking_numbers.join(' '), 'tracking numbers too');
    }
    assert.deepEqual(finals, ['delivered', 'exception', 'returned', 'delivered', 'delivered', 'delivered']);
    const onTheWay: TrackingStatus[] = ['label_created', 'in_transit', 'out_for_delivery'];
    assert.ok(
      [...seen].some((s) => onTheWay.includes(s as TrackingStatus)),
      `statuses on the way were written before the final ones (seen: ${[...seen].join(', ')})`,
    );
    // The package in exception is still asked about (backing off to every 8 s: eight times trackEvery); its
    // row's status does not change, so nothing more is written.
    const before = (await trackPageResults(env.client, batchId)).length;
    let later: Awaited<ReturnType<typeof trackPageResults>> = [];
    for (let waited = 0; later.length === 0 && waited < 12_000; waited += 500) {
      await new Promise((r) => setTimeout(r, 500));
      later = (await trackPageResults(env.client, batchId)).slice(before);
    }
    assert.ok(later.length > 0, 'tracking pages went on');
    assert.deepEqual(
      later.map((p) => p.statusesWritten),
      later.map(() => 0),
    );
    await env.client.workflow.getHandle(trackingWorkflowId(batchId)).terminate('test done');
  } finally {
    polling = false;
    await poller?.catch(() => undefined);
    await worker.stop();
    await sbx.ups.close();
  }
});

test('a status column that is not there: tracking goes to its end, the problem kept once and said by every page; tracking numbers still written back', async () => {
  const sbx = trackingSandbox(env, 'missing');
  const worker = await sbx.startWorker();
  try {
    const table = await createOrdersTable(env.pool, makeOrders(3));
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, {
        mode: 'auto',
        options: { ...TRACKING, writeBack: { column: 'tracking', statusColumn: 'delivery' } },
      }),
    );
    const batchId = handle.workflowId;
    const closed = await handle.result();
    assert.equal(closed.counts.shipped, 3);
    assert.equal(closed.phase, 'completed');
    const end = (await env.client.workflow.getHandle(trackingWorkflowId(batchId)).result()) as TrackingState;
    assert.equal(end.phase, 'done');
    assert.equal(end.counts.delivered, 3);

    const { rows } = await env.pool.query<{ problem: string | null }>(
      'SELECT delivery_write_back_error AS problem FROM batches WHERE batch_id = $1',
      [batchId],
    );
    const problem = rows[0]?.problem ?? '';
    assert.match(
      problem,
      /^status write-back to orders_\w+\.delivery: unknown write-back status column "delivery"/,
    );
    const pages = await trackPageResults(env.client, batchId);
    assert.ok(pages.length > 1, `${pages.length} tracking pages`);
    assert.deepEqual(
      pages.map((p) => p.statusWriteBackError),
      pages.map(() => problem),
      'every page says it, from the first',
    );
    assert.ok(pages.every((p) => !p.statusesWritten));
    assert.equal(end.statusWriteBackError, problem, 'the tracking workflow says it (query, Web UI)');
    const source = await sourceColumns(table, null);
    for (const r of await ledgerRows(batchId)) {
      assert.equal(r.delivery_status_written, null);
      assert.equal(r.delivery_status_pending, false, `row ${r.row_no} is not left marked`);
      assert.equal(source.get(r.source_key)?.tracking, r.tracking_numbers.join(' '));
    }
  } finally {
    await worker.stop();
    await sbx.ups.close();
  }
});

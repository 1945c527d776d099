/**
 * The delivery-status write-back's ledger side (issue 25), on the real PostgreSQL without Temporal or UPS:
 * which rows are marked (seed, a look that changes a package), what is written (a row's packages together,
 * bounded pages), a killed worker's rewrite (harmless: the source row is not even touched), a change between
 * read and mark (kept for the next write), and a column that cannot be written (stopped once, never retried,
 * the looks still stored; a hostile column name never reaches SQL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { useTestPool } from '../helpers/test-pool';
import { seedTracking, storeLooks, type PackageLook } from '../../db/ledger/tracking';
import { markStatusesWritten, rowsWithNewStatus } from '../../db/ledger/write-back';
import { rowDeliveryStatus, type TrackingStatus } from '../../domain/tracking';
import { writeDeliveryStatuses } from '../../activities/tracking/status-write-back';

let pool: pg.Pool;
useTestPool((p) => (pool = p));

/** The package tracking numbers of row `n` (`boxes` of them). */
const numbers = (batchId: string, n: number, boxes: number) =>
  Array.from({ length: boxes }, (_, b) => `1Z${batchId.slice(-8)}${n}${'ABC'[b]}`);

/**
 * A closed batch straight into the ledger, its source table (`id`, `delivery` of `statusType`) and its
 * shipped rows 1..boxes.length, row n with boxes[n-1] packages; `statusColumn` goes into its options.
 */
async function ledgerBatch(boxes: number[], statusColumn?: string, statusType = 'text') {
  const batchId = `batch-sw${randomUUID().slice(0, 8)}`;
  const table = `sw_orders_${randomUUID().slice(0, 8)}`;
  await pool.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, tracking text, delivery ${statusType})`);
  await pool.query(`INSERT INTO ${table} (tracking) SELECT NULL FROM generate_series(1, $1::int)`, [
    boxes.length,
  ]);
  const options = { writeBack: { column: 'tracking', ...(statusColumn ? { statusColumn } : {}) } };
  await pool.query(
    `INSERT INTO batches (batch_id, mode, phase, source_table, key_column, template, shipper, options)
     VALUES ($1, 'auto', 'completed', $2, 'id', '{}', '{}'::jsonb, $3::jsonb)`,
    [batchId, table, JSON.stringify(options)],
  );
  for (const [i, n] of boxes.entries()) {
    await pool.query(
      `INSERT INTO batch_rows (batch_id, row_no, source_key, data, checksum, status, reference, tracking_numbers)
       VALUES ($1, $2, $3, '{}', 'x', 'shipped', $4, $5)`,
      [batchId, i + 1, String(i + 1), `SW${batchId}-${i + 1}`, numbers(batchId, i + 1, n)],
    );
  }
  await seedTracking(pool, batchId, 0);
  return { batchId, table };
}

/** Looks that say `status` of the packages named (row, box). */
const looks = (batchId: string, said: [row: number, box: number, status: TrackingStatus][]): PackageLook[] =>
  said.map(([row, box, status]) => ({
    trackingNumber: numbers(batchId, row, box + 1)[box]!,
    reading: { status, description: status.toUpperCase() },
    nextCheckAfterMs: 1000,
  }));

async function rowsOf(batchId: string) {
  const { rows } = await pool.query<{ row_no: number; written: string | null; pending: boolean }>(
    `SELECT row_no, delivery_status_written AS written, delivery_status_pending AS pending
       FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
    [batchId],
  );
  return rows;
}

async function source(table: string) {
  const { rows } = await pool.query<{ delivery: string | null; xmin: string }>(
    `SELECT delivery, xmin::text AS xmin FROM ${table} ORDER BY id`,
  );
  return rows;
}

test('rows are marked at the seed and when a package changes, only with a status column; a write takes only those', async () => {
  const withColumn = await ledgerBatch([1, 1, 1], 'delivery');
  const without = await ledgerBatch([1, 1, 1]);
  assert.deepEqual(
    (await rowsOf(withColumn.batchId)).map((r) => r.pending),
    [true, true, true],
  );
  assert.deepEqual(
    (await rowsOf(without.batchId)).map((r) => r.pending),
    [false, false, false],
  );
  assert.deepEqual(await writeDeliveryStatuses(pool, without.batchId), {}, 'nothing to say without one');
  assert.deepEqual(await writeDeliveryStatuses(pool, withColumn.batchId), { statusesWritten: 3 });
  assert.deepEqual(
    (await source(withColumn.table)).map((r) => r.delivery),
    ['label_created', 'label_created', 'label_created'],
  );

  // Row 1 moves, row 2 says the same again, row 3's look fails: only row 1 is marked.
  for (const { batchId } of [withColumn, without]) {
    await storeLooks(pool, batchId, [
      ...looks(batchId, [
        [1, 0, 'in_transit'],
        [2, 0, 'label_created'],
      ]),
      { trackingNumber: numbers(batchId, 3, 1)[0]!, error: 'not known yet', nextCheckAfterMs: 1000 },
    ]);
  }
  assert.deepEqual(
    (await rowsOf(withColumn.batchId)).map((r) => r.pending),
    [true, false, false],
  );
  assert.deepEqual(
    (await rowsOf(without.batchId)).map((r) => r.pending),
    [false, false, false],
  );
  assert.deepEqual(await writeDeliveryStatuses(pool, withColumn.batchId), { statusesWritten: 1 });
  assert.deepEqual(
    (await source(withColumn.table)).map((r) => r.delivery),
    ['in_transit', 'label_created', 'label_created'],
  );
  assert.deepEqual(
    (await rowsOf(withColumn.batchId)).map((r) => [r.written, r.pending]),
    [
      ['in_transit', false],
      ['label_created', false],
      ['label_created', false],
    ],
  );
});

test('rows of several packages in bounded pages; a killed worker writes the same again without touching the source; a change between read and mark stays to write', async () => {
  const { batchId, table } = await ledgerBatch([1, 2, 1, 2, 1], 'delivery');
  assert.deepEqual(await writeDeliveryStatuses(pool, batchId, { pageSize: 2 }), { statusesWritten: 5 });
  await storeLooks(
    pool,
    batchId,
    looks(batchId, [
      [2, 0, 'delivered'],
      [2, 1, 'in_transit'],
      [4, 0, 'delivered'],
      [4, 1, 'delivered'],
      [5, 0, 'exception'],
    ]),
  );
  assert.deepEqual(await writeDeliveryStatuses(pool, batchId, { pageSize: 2 }), { statusesWritten: 3 });
  const written = await source(table);
  assert.deepEqual(
    written.map((r) => r.delivery),
    ['label_created', 'in_transit', 'label_created', 'delivered', 'exception'],
  );

  // A worker killed after the source UPDATE, before the ledger's mark: the next one writes the same values.
  await pool.query(
    `UPDATE batch_rows SET delivery_status_pending = true, delivery_status_written = 'label_created'
      WHERE batch_id = $1 AND row_no IN (2, 4, 5)`,
    [batchId],
  );
  assert.deepEqual(await writeDeliveryStatuses(pool, batchId, { pageSize: 2 }), { statusesWritten: 3 });
  assert.deepEqual(await source(table), written, 'same values, the source rows not even rewritten');
  assert.ok((await rowsOf(batchId)).every((r) => !r.pending));

  // Row 1 changes, is read, changes again before the mark: it stays marked and the next write has it.
  await storeLooks(pool, batchId, looks(batchId, [[1, 0, 'in_transit']]));
  const read = await rowsWithNewStatus(pool, batchId, 0, 10);
  assert.deepEqual(
    read.map((r) => [r.rowNo, r.packages, r.written]),
    [[1, ['in_transit'], 'label_created']],
  );
  await storeLooks(pool, batchId, looks(batchId, [[1, 0, 'out_for_delivery']]));
  await markStatusesWritten(
    pool,
    batchId,
    read.map((r) => ({ ...r, status: rowDeliveryStatus(r.packages) })),
  );
  assert.equal((await rowsOf(batchId))[0]!.pending, true);
  assert.deepEqual(await writeDeliveryStatuses(pool, batchId), { statusesWritten: 1 });
  assert.equal((await source(table))[0]!.delivery, 'out_for_delivery');
});

test('a status column a value does not fit: stopped once for the batch, said every time after, never tried again; the looks still stored', async () => {
  const { batchId, table } = await ledgerBatch([1, 1], 'delivery', 'varchar(5)');
  const warned: unknown[] = [];
  const logger = { warn: (message: string, meta?: unknown) => warned.push({ message, meta }) };
  const first = await writeDeliveryStatuses(pool, batchId, { logger });
  assert.match(
    first.statusWriteBackError ?? '',
    new RegExp(`^status write-back to ${table}\\.delivery: value too long for type character varying\\(5\\)`),
  );
  assert.deepEqual(first.statusesWritten, 0);
  assert.equal(warned.length, 1);
  const { rows } = await pool.query<{ problem: string }>(
    'SELECT delivery_write_back_error AS problem FROM batches WHERE batch_id = $1',
    [batchId],
  );
  assert.equal(rows[0]?.problem, first.statusWriteBackError, 'kept in the ledger');
  assert.ok((await rowsOf(batchId)).every((r) => !r.pending && r.written === null));

  await storeLooks(pool, batchId, looks(batchId, [[1, 0, 'in_transit']]));
  const { rows: stored } = await pool.query<{ status: string }>(
    'SELECT status FROM package_tracking WHERE batch_id = $1 ORDER BY row_no',
    [batchId],
  );
  assert.deepEqual(
    stored.map((r) => r.status),
    ['in_transit', 'label_created'],
  );
  assert.ok(
    (await rowsOf(batchId)).every((r) => !r.pending),
    'a stopped batch marks nothing more',
  );
  assert.deepEqual(await writeDeliveryStatuses(pool, batchId, { logger }), {
    statusWriteBackError: first.statusWriteBackError,
  });
  assert.equal(warned.length, 1, 'logged once');
  assert.deepEqual(
    (await source(table)).map((r) => r.delivery),
    [null, null],
  );
});

test('a hostile status column name in the ledger never reaches SQL', async () => {
  const { batchId, table } = await ledgerBatch([1], 'delivery" = NULL; DROP TABLE batches; --');
  const said = await writeDeliveryStatuses(pool, batchId, { logger: { warn: () => undefined } });
  assert.match(said.statusWriteBackError ?? '', /invalid write-back status column name/);
  assert.equal((await pool.query('SELECT 1 FROM batches WHERE batch_id = $1', [batchId])).rowCount, 1);
  assert.deepEqual(
    (await source(table)).map((r) => r.delivery),
    [null],
  );
});

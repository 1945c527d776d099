/**
 * The one ledger module: every read and write of `batches`, `batch_rows` and `labels`. Row data lives
 * here and only here; the workflow sees row numbers, counts and cents.
 */
import type pg from 'pg';
import { COUNT_FIELD, emptyCounts, type BatchInput, type RowCounts } from '../../domain/batch';
import type { RowStatus } from '../../domain/row-status';
import type { RowError } from '../../domain/row-error';
import type { PackageLabel } from '../ups/normalize';

type Db = pg.Pool | pg.PoolClient;

/** Run `fn` in one transaction on a client of `pool`. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The batch record; idempotent (a retried load finds it). */
export async function upsertBatch(db: Db, batchId: string, input: BatchInput): Promise<void> {
  await db.query(
    `INSERT INTO batches (batch_id, name, mode, phase, source_table, key_column, filter, template, shipper, options)
     VALUES ($1, $2, $3, 'loading', $4, $5, $6, $7, $8, $9)
     ON CONFLICT (batch_id) DO UPDATE SET updated_at = now()`,
    [
      batchId,
      input.name ?? null,
      input.mode,
      input.source.table,
      input.source.keyColumn,
      input.source.filter ?? null,
      input.template,
      JSON.stringify(input.shipper),
      JSON.stringify(input.options),
    ],
  );
}

export interface BatchRecord {
  batchId: string;
  input: BatchInput;
  loadedAt: Date | null;
}

export async function getBatch(db: Db, batchId: string): Promise<BatchRecord | undefined> {
  const { rows } = await db.query<{
    name: string | null;
    mode: 'confirm' | 'auto';
    source_table: string;
    key_column: string;
    filter: string | null;
    template: string;
    shipper: BatchInput['shipper'];
    options: BatchInput['options'];
    loaded_at: Date | null;
  }>(`SELECT * FROM batches WHERE batch_id = $1`, [batchId]);
  const r = rows[0];
  if (!r) return undefined;
  return {
    batchId,
    loadedAt: r.loaded_at,
    input: {
      ...(r.name ? { name: r.name } : {}),
      source: { table: r.source_table, keyColumn: r.key_column, ...(r.filter ? { filter: r.filter } : {}) },
      template: r.template,
      shipper: r.shipper,
      mode: r.mode,
      options: r.options,
    },
  };
}

export async function markLoaded(db: Db, batchId: string): Promise<void> {
  await db.query(`UPDATE batches SET loaded_at = now(), updated_at = now() WHERE batch_id = $1`, [batchId]);
}

/** One snapshotted source row, rendered: a request to send, or its errors. */
export interface LedgerRowInsert {
  rowNo: number;
  sourceKey: string;
  data: Record<string, unknown>;
  checksum: string;
  reference: string;
  request?: unknown;
  errors?: RowError[];
}

/** Insert a page of rows in one statement; rows already there (a retried page) are kept as they are. */
export async function insertRows(db: Db, batchId: string, rows: readonly LedgerRowInsert[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO batch_rows (batch_id, row_no, source_key, data, checksum, reference, status, request, errors)
     SELECT $1, t.row_no, t.source_key, t.data, t.checksum, t.reference,
            CASE WHEN t.request IS NULL THEN 'invalid' ELSE 'pending' END, t.request, t.errors
       FROM jsonb_to_recordset($2::jsonb)
         AS t(row_no int, source_key text, data jsonb, checksum text, reference text, request jsonb, errors jsonb)
     ON CONFLICT DO NOTHING`,
    [
      batchId,
      JSON.stringify(
        rows.map((r) => ({
          row_no: r.rowNo,
          source_key: r.sourceKey,
          data: r.data,
          checksum: r.checksum,
          reference: r.reference,
          request: r.request ?? null,
          errors: r.errors ?? null,
        })),
      ),
    ],
  );
  return rowCount ?? 0;
}

/** Where a (re)started load goes on: the last row number and source key already in the ledger. */
export async function loadProgress(
  db: Db,
  batchId: string,
): Promise<{ lastRowNo: number; lastKey?: string }> {
  const { rows } = await db.query<{ row_no: number; source_key: string }>(
    `SELECT row_no, source_key FROM batch_rows WHERE batch_id = $1 ORDER BY row_no DESC LIMIT 1`,
    [batchId],
  );
  return rows[0] ? { lastRowNo: rows[0].row_no, lastKey: rows[0].source_key } : { lastRowNo: 0 };
}

export interface LedgerTotals {
  counts: RowCounts;
  /** Sum of the shipped rows' cost (voided rows no longer cost anything). */
  costCents: number;
  currency?: string;
}

export async function ledgerTotals(db: Db, batchId: string): Promise<LedgerTotals> {
  const { rows } = await db.query<{
    status: RowStatus;
    n: string;
    cents: string | null;
    currency: string | null;
  }>(
    `SELECT status, count(*) AS n, sum(cost_cents) AS cents, max(currency) AS currency
       FROM batch_rows WHERE batch_id = $1 GROUP BY status`,
    [batchId],
  );
  const counts = emptyCounts();
  let costCents = 0;
  let currency: string | undefined;
  for (const r of rows) {
    const n = Number(r.n);
    counts[COUNT_FIELD[r.status]] += n;
    counts.total += n;
    if (r.status === 'shipped') {
      costCents += Number(r.cents ?? 0);
      currency = r.currency ?? currency;
    }
  }
  return { counts, costCents, currency };
}

/**
 * Rows to dispatch after `afterRowNo`, in order: pending ones, and in_flight ones put back for a
 * reconcile by a restart (rows in flight in the current window are all at or below the cursor).
 */
export async function pendingRows(
  db: Db,
  batchId: string,
  afterRowNo: number,
  limit: number,
): Promise<number[]> {
  const { rows } = await db.query<{ row_no: number }>(
    `SELECT row_no FROM batch_rows WHERE batch_id = $1 AND status IN ('pending', 'in_flight') AND row_no > $2
      ORDER BY row_no LIMIT $3`,
    [batchId, afterRowNo, limit],
  );
  return rows.map((r) => r.row_no);
}

/** Move rows from some states to another (optionally only the given row numbers); returns how many. */
export async function markRows(
  db: Db,
  batchId: string,
  from: readonly RowStatus[],
  to: RowStatus,
  rowNos?: readonly number[],
): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE batch_rows SET status = $3, updated_at = now(),
            ups_error_code = CASE WHEN $3 = 'pending' THEN NULL ELSE ups_error_code END,
            ups_error_message = CASE WHEN $3 = 'pending' THEN NULL ELSE ups_error_message END,
            review_reason = CASE WHEN $3 = 'pending' THEN NULL ELSE review_reason END
      WHERE batch_id = $1 AND status = ANY($2::text[]) AND ($4::int[] IS NULL OR row_no = ANY($4::int[]))`,
    [batchId, from, to, rowNos ?? null],
  );
  return rowCount ?? 0;
}

/** A row as shipRow needs it, locked for the transaction. */
export interface LockedRow {
  status: RowStatus;
  reference: string;
  request: unknown;
  inFlightSince: Date | null;
  costCents: number | null;
  currency: string | null;
}

export async function lockRow(
  c: pg.PoolClient,
  batchId: string,
  rowNo: number,
): Promise<LockedRow | undefined> {
  const { rows } = await c.query<{
    status: RowStatus;
    reference: string;
    request: unknown;
    in_flight_since: Date | null;
    cost_cents: string | null;
    currency: string | null;
  }>(
    `SELECT status, reference, request, in_flight_since, cost_cents, currency
       FROM batch_rows WHERE batch_id = $1 AND row_no = $2 FOR UPDATE`,
    [batchId, rowNo],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    status: r.status,
    reference: r.reference,
    request: r.request,
    inFlightSince: r.in_flight_since,
    costCents: r.cost_cents === null ? null : Number(r.cost_cents),
    currency: r.currency,
  };
}

export async function markInFlight(c: Db, batchId: string, rowNo: number): Promise<void> {
  await c.query(
    `UPDATE batch_rows SET status = 'in_flight', attempts = attempts + 1, in_flight_since = now(), updated_at = now()
      WHERE batch_id = $1 AND row_no = $2`,
    [batchId, rowNo],
  );
}

export interface ShippedRecord {
  shipmentId?: string;
  trackingNumbers: string[];
  costCents: number | null;
  currency: string | null;
  labels: PackageLabel[];
  resolvedBy?: string;
}

/** Result, labels and `shipped` in one transaction (only from in_flight or needs_review: never twice). */
export async function storeShipped(
  pool: pg.Pool,
  batchId: string,
  rowNo: number,
  s: ShippedRecord,
): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query(
      `UPDATE batch_rows SET status = 'shipped', tracking_numbers = $3, shipment_id = $4, cost_cents = $5,
              currency = $6, shipped_at = now(), updated_at = now(), ups_error_code = NULL,
              ups_error_message = NULL, review_reason = NULL, resolved_by = $7
        WHERE batch_id = $1 AND row_no = $2`,
      [
        batchId,
        rowNo,
        s.trackingNumbers,
        s.shipmentId ?? null,
        s.costCents,
        s.currency,
        s.resolvedBy ?? null,
      ],
    );
    for (const [i, label] of s.labels.entries()) {
      if (label.image.length === 0) continue;
      await c.query(
        `INSERT INTO labels (batch_id, row_no, package_index, tracking_number, format, image)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (batch_id, row_no, package_index) DO UPDATE
           SET tracking_number = EXCLUDED.tracking_number, format = EXCLUDED.format, image = EXCLUDED.image`,
        [batchId, rowNo, i, label.trackingNumber, label.format, label.image],
      );
    }
  });
}

export async function markFailed(
  db: Db,
  batchId: string,
  rowNo: number,
  code: string,
  message: string,
): Promise<void> {
  await db.query(
    `UPDATE batch_rows SET status = 'failed', ups_error_code = $3, ups_error_message = $4, updated_at = now()
      WHERE batch_id = $1 AND row_no = $2 AND status <> 'shipped'`,
    [batchId, rowNo, code, message.slice(0, 2000)],
  );
}

export async function markNeedsReview(db: Db, batchId: string, rowNo: number, reason: string): Promise<void> {
  await db.query(
    `UPDATE batch_rows SET status = 'needs_review', review_reason = $3, updated_at = now()
      WHERE batch_id = $1 AND row_no = $2 AND status <> 'shipped'`,
    [batchId, rowNo, reason.slice(0, 2000)],
  );
}

/** Rows for the preview: the first `limit` valid rows with their request and checksum. */
export async function validRows(
  db: Db,
  batchId: string,
  limit: number | null,
): Promise<{ rowNo: number; request: unknown; data: Record<string, unknown> }[]> {
  const { rows } = await db.query<{ row_no: number; request: unknown; data: Record<string, unknown> }>(
    `SELECT row_no, request, data FROM batch_rows
      WHERE batch_id = $1 AND status <> 'invalid' ORDER BY row_no LIMIT $2`,
    [batchId, limit],
  );
  return rows.map((r) => ({ rowNo: r.row_no, request: r.request, data: r.data }));
}

/** `row_no:checksum` of every row, in order (the previewHash input). */
export async function rowChecksums(db: Db, batchId: string): Promise<string[]> {
  const { rows } = await db.query<{ line: string }>(
    `SELECT row_no || ':' || checksum AS line FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
    [batchId],
  );
  return rows.map((r) => r.line);
}

export async function storePreview(db: Db, batchId: string, preview: unknown): Promise<void> {
  await db.query(`UPDATE batches SET preview = $2, updated_at = now() WHERE batch_id = $1`, [
    batchId,
    JSON.stringify(preview),
  ]);
}

export async function getPreview(db: Db, batchId: string): Promise<unknown> {
  const { rows } = await db.query<{ preview: unknown }>(`SELECT preview FROM batches WHERE batch_id = $1`, [
    batchId,
  ]);
  return rows[0]?.preview ?? null;
}

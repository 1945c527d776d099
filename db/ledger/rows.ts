/** The ledger's `batch_rows`: the load's inserts, where a load goes on, the dispatch pages, status moves. */
import type { RowStatus } from '../../domain/row-status';
import type { RowError } from '../../domain/row-error';
import type { Db } from './transaction';

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

/** A page of rows that cannot be stored: a reference or source key the ledger already holds elsewhere. */
export class LedgerConflictError extends Error {}

/**
 * Insert a page of rows in one statement; rows already there (a retried page: same batch and row
 * number) are kept as they are. Any other conflict — a reference another batch holds, a source key twice
 * — is a {@link LedgerConflictError}: rows are never dropped silently.
 */
export async function insertRows(db: Db, batchId: string, rows: readonly LedgerRowInsert[]): Promise<number> {
  if (rows.length === 0) return 0;
  try {
    return await insertRowPage(db, batchId, rows);
  } catch (err) {
    const e = err as { code?: string; constraint?: string; detail?: string };
    if (e.code !== '23505') throw err;
    const what =
      e.constraint === 'batch_rows_reference_idx'
        ? 'a row reference is already used by another batch'
        : e.constraint === 'batch_rows_source_key_idx'
          ? 'the source holds the same key twice'
          : `a ledger constraint (${e.constraint ?? 'unknown'}) refused the page`;
    throw new LedgerConflictError(`batch ${batchId} cannot be loaded: ${what} (${e.detail ?? 'no detail'})`, {
      cause: err,
    });
  }
}

async function insertRowPage(db: Db, batchId: string, rows: readonly LedgerRowInsert[]): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO batch_rows (batch_id, row_no, source_key, data, checksum, reference, status, request, errors)
     SELECT $1, t.row_no, t.source_key, t.data, t.checksum, t.reference,
            CASE WHEN t.request IS NULL THEN 'invalid' ELSE 'pending' END, t.request, t.errors
       FROM jsonb_to_recordset($2::jsonb)
         AS t(row_no int, source_key text, data jsonb, checksum text, reference text, request jsonb, errors jsonb)
     ON CONFLICT (batch_id, row_no) DO NOTHING`,
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
  reason?: string,
): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE batch_rows SET status = $3, updated_at = now(),
            ups_error_code = CASE WHEN $3 = 'pending' THEN NULL ELSE ups_error_code END,
            ups_error_message = CASE WHEN $3 = 'pending' THEN NULL ELSE ups_error_message END,
            review_reason = CASE WHEN $3 = 'pending' THEN NULL ELSE COALESCE($5, review_reason) END
      WHERE batch_id = $1 AND status = ANY($2::text[]) AND ($4::int[] IS NULL OR row_no = ANY($4::int[]))`,
    [batchId, from, to, rowNos ?? null, reason ?? null],
  );
  return rowCount ?? 0;
}

/** The status of each listed row the ledger holds (a row number it does not hold is absent). */
export async function rowStatuses(
  db: Db,
  batchId: string,
  rowNos: readonly number[],
): Promise<Map<number, RowStatus>> {
  const { rows: found } = await db.query<{ row_no: number; status: RowStatus }>(
    `SELECT row_no, status FROM batch_rows WHERE batch_id = $1 AND row_no = ANY($2::int[])`,
    [batchId, rowNos],
  );
  return new Map(found.map((r) => [r.row_no, r.status]));
}

/**
 * Settle a row whose shipRow retries ran out: in_flight becomes needs_review (it may exist at UPS), pending
 * becomes failed (it did not ship), any other status stays. Returns the row's status now and whether this
 * call changed it.
 */
export async function settleExhaustedRow(
  db: Db,
  batchId: string,
  rowNo: number,
  reason: string,
): Promise<{ status: RowStatus; changed: boolean }> {
  // `was`: the status before, from the row locked by the subquery (the latest committed version, the one
  // the UPDATE then changes), so a retried or concurrent settle sees that it changed nothing.
  const { rows } = await db.query<{ status: RowStatus; was: RowStatus }>(
    `UPDATE batch_rows r
        SET status = CASE r.status WHEN 'in_flight' THEN 'needs_review' WHEN 'pending' THEN 'failed' ELSE r.status END,
            review_reason = CASE WHEN r.status = 'in_flight' THEN $3 ELSE r.review_reason END,
            ups_error_code = CASE WHEN r.status = 'pending' THEN 'retries_exhausted' ELSE r.ups_error_code END,
            ups_error_message = CASE WHEN r.status = 'pending' THEN $3 ELSE r.ups_error_message END,
            updated_at = now()
       FROM (SELECT batch_id, row_no, status FROM batch_rows WHERE batch_id = $1 AND row_no = $2 FOR UPDATE) before
      WHERE r.batch_id = before.batch_id AND r.row_no = before.row_no
      RETURNING r.status, before.status AS was`,
    [batchId, rowNo, reason.slice(0, 2000)],
  );
  const row = rows[0];
  return row ? { status: row.status, changed: row.status !== row.was } : { status: 'failed', changed: false };
}

/** A pending row that was never sent, cancelled (inside the caller's claim transaction). */
export async function cancelUnsentRow(db: Db, batchId: string, rowNo: number): Promise<void> {
  await db.query(
    `UPDATE batch_rows SET status = 'cancelled', updated_at = now() WHERE batch_id = $1 AND row_no = $2`,
    [batchId, rowNo],
  );
}

/** The stored request of the batch's first valid row (what a probe of UPS rates), if any. */
export async function firstRequest(db: Db, batchId: string): Promise<unknown> {
  const { rows } = await db.query<{ request: unknown }>(
    `SELECT request FROM batch_rows WHERE batch_id = $1 AND request IS NOT NULL ORDER BY row_no LIMIT 1`,
    [batchId],
  );
  return rows[0]?.request;
}

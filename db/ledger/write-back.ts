/**
 * The write-back's side of the ledger: shipped rows whose tracking numbers are not in the source yet, and
 * (options.writeBack.statusColumn, 009_delivery_write_back.sql) tracked rows whose delivery status changed since
 * it was last written, what was written, and the problem that stopped it for a batch.
 */
import type { TrackingStatus } from '../../domain/tracking';
import type { Db } from './transaction';

/** A shipped row to write back: its source key and tracking numbers. */
export interface WriteBackRow {
  rowNo: number;
  sourceKey: string;
  trackingNumbers: string[];
}

/** The first `limit` shipped rows not written back yet, in row order. */
export async function rowsToWriteBack(db: Db, batchId: string, limit: number): Promise<WriteBackRow[]> {
  const { rows } = await db.query<{ row_no: number; source_key: string; tracking_numbers: string[] }>(
    `SELECT row_no, source_key, tracking_numbers FROM batch_rows
        WHERE batch_id = $1 AND status = 'shipped' AND written_back_at IS NULL ORDER BY row_no LIMIT $2`,
    [batchId, limit],
  );
  return rows.map((r) => ({ rowNo: r.row_no, sourceKey: r.source_key, trackingNumbers: r.tracking_numbers }));
}

/** Mark rows as written back (the write-back does not write them again). */
export async function markWrittenBack(db: Db, batchId: string, rowNos: readonly number[]): Promise<void> {
  await db.query(
    `UPDATE batch_rows SET written_back_at = now() WHERE batch_id = $1 AND row_no = ANY($2::int[])`,
    [batchId, rowNos],
  );
}

/** Where a batch's delivery statuses go, and the problem that stopped them for good (null while none did). */
export interface StatusWriteBack {
  table: string;
  keyColumn: string;
  column: string;
  stoppedBy: string | null;
}

/** The batch's status write-back; undefined when the batch has none (no `writeBack.statusColumn`). */
export async function statusWriteBackOf(db: Db, batchId: string): Promise<StatusWriteBack | undefined> {
  const { rows } = await db.query<{
    source_table: string;
    key_column: string;
    status_column: string | null;
    delivery_write_back_error: string | null;
  }>(
    `SELECT source_table, key_column, options->'writeBack'->>'statusColumn' AS status_column,
            delivery_write_back_error
       FROM batches WHERE batch_id = $1`,
    [batchId],
  );
  const r = rows[0];
  if (!r?.status_column) return undefined;
  return {
    table: r.source_table,
    keyColumn: r.key_column,
    column: r.status_column,
    stoppedBy: r.delivery_write_back_error,
  };
}

/** A tracked row whose packages changed since its delivery status was last written. */
export interface StatusRow {
  rowNo: number;
  sourceKey: string;
  /** Its packages' statuses, in tracking-number order. */
  packages: TrackingStatus[];
  /** What the source was last given (null: nothing yet). */
  written: TrackingStatus | null;
}

/** The first `limit` rows after row `afterRow` marked for the status write-back, in row order. */
export async function rowsWithNewStatus(
  db: Db,
  batchId: string,
  afterRow: number,
  limit: number,
): Promise<StatusRow[]> {
  const { rows } = await db.query<{
    row_no: number;
    source_key: string;
    packages: string;
    written: TrackingStatus | null;
  }>(
    `SELECT r.row_no, r.source_key, r.delivery_status_written AS written,
            string_agg(p.status, ' ' ORDER BY p.tracking_number) AS packages
       FROM batch_rows r JOIN package_tracking p ON p.batch_id = r.batch_id AND p.row_no = r.row_no
      WHERE r.batch_id = $1 AND r.delivery_status_pending AND r.row_no > $2
      GROUP BY r.batch_id, r.row_no ORDER BY r.row_no LIMIT $3`,
    [batchId, afterRow, limit],
  );
  return rows.map((r) => ({
    rowNo: r.row_no,
    sourceKey: r.source_key,
    packages: r.packages.split(' ') as TrackingStatus[],
    written: r.written,
  }));
}

/**
 * Record what the source now holds for these rows and unmark them; a row whose packages changed again since
 * they were read (`packages` differs) stays marked, for the next write.
 */
export async function markStatusesWritten(
  db: Db,
  batchId: string,
  rows: readonly { rowNo: number; status: TrackingStatus; packages: readonly TrackingStatus[] }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `UPDATE batch_rows r SET delivery_status_written = v.status, delivery_status_pending = false
       FROM jsonb_to_recordset($2::jsonb) AS v(row_no integer, status text, packages text)
      WHERE r.batch_id = $1 AND r.row_no = v.row_no
        AND (SELECT string_agg(p.status, ' ' ORDER BY p.tracking_number) FROM package_tracking p
              WHERE p.batch_id = $1 AND p.row_no = v.row_no) = v.packages`,
    [
      batchId,
      JSON.stringify(
        rows.map((r) => ({ row_no: r.rowNo, status: r.status, packages: r.packages.join(' ') })),
      ),
    ],
  );
}

/**
 * Stop the batch's status write-back for good, keeping `problem`, and unmark its rows. True when this call
 * stopped it (the first), false when it was stopped already.
 */
export async function stopStatusWriteBack(db: Db, batchId: string, problem: string): Promise<boolean> {
  const { rows } = await db.query<{ stopped: number }>(
    `WITH stopped AS (
       UPDATE batches SET delivery_write_back_error = $2
        WHERE batch_id = $1 AND delivery_write_back_error IS NULL RETURNING 1),
     unmarked AS (
       UPDATE batch_rows SET delivery_status_pending = false WHERE batch_id = $1 AND delivery_status_pending)
     SELECT count(*)::int AS stopped FROM stopped`,
    [batchId, problem],
  );
  return (rows[0]?.stopped ?? 0) > 0;
}

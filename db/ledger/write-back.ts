/** The write-back's side of the ledger: shipped rows whose tracking numbers are not in the source yet. */
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

/**
 * The client's reads of the ledger: pages of rows with their extra shipments, pages of labels, a batch's
 * latest row error. Rows come back as the database holds them; the client shapes them (client/ledger.ts).
 */
import type { LabelFormat } from '../../domain/label';
import type { RowError } from '../../domain/row-error';
import type { RowStatus } from '../../domain/row-status';
import type { Db } from './transaction';

/** A shipment UPS made for a row beyond its own, as {@link selectRows} builds it. */
export interface ExtraShipment {
  shipmentId: string;
  trackingNumbers: string[];
  status: 'to_void' | 'voided' | 'void_failed';
  voidError: string | null;
}

/** What went wrong with a row, as the ledger holds it. */
export interface RowProblemRecord {
  status: RowStatus;
  errors: RowError[] | null;
  ups_error_code: string | null;
  ups_error_message: string | null;
  review_reason: string | null;
}

/** One `batch_rows` row as the client reads it, with its extra shipments. */
export interface RowRecord extends RowProblemRecord {
  row_no: number;
  source_key: string;
  tracking_numbers: string[] | null;
  cost_cents: string | null;
  currency: string | null;
  cost_estimated: boolean;
  extras: ExtraShipment[] | null;
}

/** A page of a batch's rows after `afterRowNo`, in row order, optionally of one status. */
export async function selectRows(
  db: Db,
  batchId: string,
  opts: { status?: RowStatus; afterRowNo?: number; limit?: number } = {},
): Promise<RowRecord[]> {
  const { rows } = await db.query<RowRecord>(
    `SELECT row_no, source_key, status, tracking_numbers, cost_cents, currency, errors,
            ups_error_code, ups_error_message, review_reason, cost_estimated,
            (SELECT json_agg(json_build_object('shipmentId', e.shipment_id, 'trackingNumbers', e.tracking_numbers,
                                               'status', e.status, 'voidError', e.void_error) ORDER BY e.found_at)
               FROM extra_shipments e WHERE e.batch_id = r.batch_id AND e.row_no = r.row_no) AS extras
       FROM batch_rows r
      WHERE batch_id = $1 AND ($2::text IS NULL OR status = $2) AND row_no > $3
      ORDER BY row_no
      LIMIT $4`,
    [batchId, opts.status ?? null, opts.afterRowNo ?? 0, opts.limit ?? 1000],
  );
  return rows;
}

/** One `labels` row. */
export interface LabelRecord {
  row_no: number;
  package_index: number;
  tracking_number: string;
  format: LabelFormat;
  image: Buffer;
}

/** A page of the shipped rows' labels after (row, package) `after`, in row then package order. */
export async function selectLabels(
  db: Db,
  batchId: string,
  after: [number, number],
  pageSize: number,
): Promise<LabelRecord[]> {
  const { rows } = await db.query<LabelRecord>(
    `SELECT l.row_no, l.package_index, l.tracking_number, l.format, l.image
         FROM labels l JOIN batch_rows r ON r.batch_id = l.batch_id AND r.row_no = l.row_no
        WHERE l.batch_id = $1 AND r.status = 'shipped' AND (l.row_no, l.package_index) > ($2, $3)
        ORDER BY l.row_no, l.package_index
        LIMIT $4`,
    [batchId, after[0], after[1], pageSize],
  );
  return rows;
}

/** The batch's row that failed or came to need review last, if any. */
export async function latestErroredRow(
  db: Db,
  batchId: string,
): Promise<(RowProblemRecord & { row_no: number }) | undefined> {
  const { rows } = await db.query<RowProblemRecord & { row_no: number }>(
    `SELECT row_no, status, errors, ups_error_code, ups_error_message, review_reason
       FROM batch_rows WHERE batch_id = $1 AND status IN ('failed', 'needs_review')
      ORDER BY updated_at DESC LIMIT 1`,
    [batchId],
  );
  return rows[0];
}

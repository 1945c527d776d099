/** Shipments in the ledger: a row's shipment and its `labels`, and the `extra_shipments` to void. */
import type pg from 'pg';
import type { RowStatus } from '../../domain/row-status';
import type { PackageLabel } from '../../domain/label';
import { lockRow } from './claims';
import { inTransaction, type Db } from './transaction';

export interface ShippedRecord {
  shipmentId?: string;
  trackingNumbers: string[];
  costCents: number | null;
  currency: string | null;
  /** The cost is a rate quote, not UPS's charges (a shipment found again, or recorded by an operator). */
  costEstimated?: boolean;
  labels: PackageLabel[];
  resolvedBy?: string;
}

/**
 * What became of a shipment handed to {@link storeShipped}: the row's shipment now (`stored`), the one
 * it already had (`same`), or an extra shipment of the row, kept in `extra_shipments` to be voided.
 */
export type StoreOutcome = 'stored' | 'same' | 'extra';

/** A row in one of these states takes no shipment of its own any more: another one is extra. */
const CLOSED_STATUSES: readonly RowStatus[] = ['shipped', 'voided', 'cancelled'];

/**
 * Record a shipment UPS made for a row: result, labels and `shipped` in one transaction. A shipment
 * exists whoever receives it, so any attempt may store it — superseded or not — as long as the row holds
 * no shipment yet and was not closed (shipped, voided or cancelled). Otherwise it is the same shipment
 * again, or an extra one: never lost, never overwriting the row's.
 */
export async function storeShipped(
  pool: pg.Pool,
  batchId: string,
  rowNo: number,
  s: ShippedRecord,
): Promise<StoreOutcome> {
  if (await storeOnOpenRow(pool, batchId, rowNo, s)) return 'stored';
  return inTransaction(pool, async (c) => {
    const row = await lockRow(c, batchId, rowNo);
    if (!row) throw new Error(`row ${rowNo} of ${batchId} is not in the ledger`);
    if (CLOSED_STATUSES.includes(row.status)) {
      // Without a shipment id nothing can be voided or told apart: taken as the row's own.
      if (s.shipmentId === undefined || s.shipmentId === row.shipmentId) return 'same';
      await c.query(
        `INSERT INTO extra_shipments (batch_id, row_no, shipment_id, tracking_numbers, cost_cents, currency, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'to_void') ON CONFLICT (batch_id, shipment_id) DO NOTHING`,
        [batchId, rowNo, s.shipmentId, s.trackingNumbers, s.costCents, s.currency],
      );
      return 'extra';
    }
    // Opened again since the first statement looked (an operator's restart): store it now.
    if (!(await storeOnOpenRow(c, batchId, rowNo, s))) throw new Error(`row ${rowNo} of ${batchId} changed`);
    return 'stored';
  });
}

/**
 * The shipment, its labels and `shipped`, in ONE statement (one round trip, atomic as a statement is) when the
 * row is open (not shipped, voided or cancelled); false, with nothing written, when it is closed or missing.
 * Each label is its own binary parameter: a 31 KB GIF is not turned into hex text.
 */
async function storeOnOpenRow(db: Db, batchId: string, rowNo: number, s: ShippedRecord): Promise<boolean> {
  const labels = s.labels.map((label, i) => ({ i, label })).filter(({ label }) => label.image.length > 0);
  const params: unknown[] = [
    batchId,
    rowNo,
    s.trackingNumbers,
    s.shipmentId ?? null,
    s.costCents,
    s.currency,
    s.resolvedBy ?? null,
    s.costEstimated === true,
  ];
  const values = labels.map(({ i, label }) => {
    params.push(i, label.trackingNumber, label.format, label.image);
    const n = params.length;
    return `($${n - 3}::int, $${n - 2}::text, $${n - 1}::text, $${n}::bytea)`;
  });
  const insertLabels =
    values.length === 0
      ? ''
      : `, stored_labels AS (
         INSERT INTO labels (batch_id, row_no, package_index, tracking_number, format, image)
         SELECT $1, $2, l.i, l.tracking_number, l.format, l.image
           FROM stored CROSS JOIN (VALUES ${values.join(', ')}) AS l(i, tracking_number, format, image)
         ON CONFLICT (batch_id, row_no, package_index) DO UPDATE
           SET tracking_number = EXCLUDED.tracking_number, format = EXCLUDED.format, image = EXCLUDED.image
       )`;
  const { rows } = await db.query<{ stored: number }>(
    `WITH stored AS (
       UPDATE batch_rows SET status = 'shipped', tracking_numbers = $3, shipment_id = $4, cost_cents = $5,
              currency = $6, shipped_at = now(), updated_at = now(), ups_error_code = NULL,
              ups_error_message = NULL, review_reason = NULL, resolved_by = $7, cost_estimated = $8
        WHERE batch_id = $1 AND row_no = $2 AND status NOT IN (${CLOSED_STATUSES.map((c) => `'${c}'`).join(', ')})
        RETURNING row_no
     )${insertLabels}
     SELECT count(*)::int AS stored FROM stored`,
    params,
  );
  return rows[0]!.stored > 0;
}

/** An extra shipment's void: done, or refused (it stays listed for review with UPS's reason). */
export async function settleExtraShipment(
  db: Db,
  batchId: string,
  shipmentId: string,
  outcome: { voided: true } | { voided: false; error: string },
): Promise<void> {
  await db.query(
    `UPDATE extra_shipments SET status = $3, void_error = $4, voided_at = CASE WHEN $3 = 'voided' THEN now() END
      WHERE batch_id = $1 AND shipment_id = $2`,
    [
      batchId,
      shipmentId,
      outcome.voided ? 'voided' : 'void_failed',
      outcome.voided ? null : outcome.error.slice(0, 2000),
    ],
  );
}

/** Extra shipments not voided yet (to void again, e.g. after a crash between record and void). */
export async function extraShipmentsToVoid(
  db: Db,
  batchId: string,
  limit: number,
): Promise<{ rowNo: number; shipmentId: string }[]> {
  const { rows } = await db.query<{ row_no: number; shipment_id: string }>(
    `SELECT row_no, shipment_id FROM extra_shipments WHERE batch_id = $1 AND status = 'to_void'
      ORDER BY found_at LIMIT $2`,
    [batchId, limit],
  );
  return rows.map((r) => ({ rowNo: r.row_no, shipmentId: r.shipment_id }));
}

/** A shipped row as a void of the whole batch needs it. */
export interface ShippedRow {
  rowNo: number;
  shipmentId: string | null;
  trackingNumbers: string[] | null;
}

/** Every shipped row of a batch, in row order (to void them all on a cancel with voidShipped). */
export async function shippedRows(db: Db, batchId: string): Promise<ShippedRow[]> {
  const { rows } = await db.query<{
    row_no: number;
    shipment_id: string | null;
    tracking_numbers: string[] | null;
  }>(
    `SELECT row_no, shipment_id, tracking_numbers FROM batch_rows
      WHERE batch_id = $1 AND status = 'shipped' ORDER BY row_no`,
    [batchId],
  );
  return rows.map((r) => ({
    rowNo: r.row_no,
    shipmentId: r.shipment_id,
    trackingNumbers: r.tracking_numbers,
  }));
}

/** A batch's totals straight from the ledger: row counts by status, shipped cost, extra shipments. */
import {
  COUNT_FIELD,
  emptyCounts,
  type ActionRows,
  type ExtraShipmentCounts,
  type RowCounts,
} from '../../domain/batch';
import type { RowStatus } from '../../domain/row-status';
import type { Db } from './transaction';

export interface LedgerTotals {
  counts: RowCounts;
  /** Sum of the shipped rows' cost (voided rows no longer cost anything). */
  costCents: number;
  currency?: string;
  /** Shipments made for a row beyond its own (present only when there are any). */
  extraShipments?: ExtraShipmentCounts;
  /** Shipped rows whose cost is a rate quote rather than UPS's charges (present only when there are any). */
  estimatedCostRows?: number;
  /**
   * The first row numbers that need an operator (failed, needs review), for the Web UI's current details;
   * present only when there are any: the first {@link ACTION_ROWS_SHOWN} of each kind.
   */
  actionRows?: ActionRows;
}

/** How many row numbers of each kind the totals name. */
export const ACTION_ROWS_SHOWN = 10;

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
  const { rows: more } = await db.query<{ found: number; voided: number; estimated: number }>(
    `SELECT (SELECT count(*) FROM extra_shipments WHERE batch_id = $1)::int AS found,
            (SELECT count(*) FROM extra_shipments WHERE batch_id = $1 AND status = 'voided')::int AS voided,
            (SELECT count(*) FROM batch_rows WHERE batch_id = $1 AND status = 'shipped' AND cost_estimated)::int
              AS estimated`,
    [batchId],
  );
  const { found, voided, estimated } = more[0]!;
  return {
    counts,
    costCents,
    currency,
    ...(found > 0 ? { extraShipments: { found, voided, notVoided: found - voided } } : {}),
    ...(estimated > 0 ? { estimatedCostRows: estimated } : {}),
    ...(counts.failed + counts.needsReview > 0 ? { actionRows: await actionRows(db, batchId, counts) } : {}),
  };
}

async function actionRows(db: Db, batchId: string, counts: RowCounts): Promise<ActionRows> {
  const first = async (status: RowStatus, count: number): Promise<number[]> => {
    if (count === 0) return [];
    const { rows } = await db.query<{ row_no: number }>(
      `SELECT row_no FROM batch_rows WHERE batch_id = $1 AND status = $2 ORDER BY row_no LIMIT $3`,
      [batchId, status, ACTION_ROWS_SHOWN],
    );
    return rows.map((r) => r.row_no);
  };
  return {
    failed: await first('failed', counts.failed),
    needsReview: await first('needs_review', counts.needsReview),
  };
}

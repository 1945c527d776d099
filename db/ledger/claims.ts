/**
 * A row's claims (fencing): the row locked for a transaction, a new claim per attempt, the stamp before a
 * create leaves, and settling the attempt's row, each only while its claim still owns the row.
 */
import type pg from 'pg';
import type { RowStatus } from '../../domain/row-status';
import { inTransaction, type Db } from './transaction';

/** A row as shipRow needs it, locked for the transaction. */
export interface LockedRow {
  status: RowStatus;
  reference: string;
  request: unknown;
  inFlightSince: Date | null;
  costCents: number | null;
  currency: string | null;
  /** Fencing token: the number of the claim that owns the row now. */
  claim: number;
  /** How long ago (by the database's clock) the latest create_shipment for this row was sent; null: never. */
  createSentAgoMs: number | null;
  /** A cancel of the batch was accepted: no create may be sent any more. */
  cancelRequested: boolean;
  shipmentId: string | null;
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
    claim: number;
    sent_ago_ms: number | null;
    cancel_requested: boolean;
    shipment_id: string | null;
  }>(
    `SELECT r.status, r.reference, r.request, r.in_flight_since, r.cost_cents, r.currency, r.claim, r.shipment_id,
            (extract(epoch FROM now() - r.create_sent_at) * 1000)::float8 AS sent_ago_ms,
            (b.cancel_requested_at IS NOT NULL) AS cancel_requested
       FROM batch_rows r JOIN batches b USING (batch_id)
      WHERE r.batch_id = $1 AND r.row_no = $2 FOR UPDATE OF r`,
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
    claim: r.claim,
    createSentAgoMs: r.sent_ago_ms === null ? null : Math.max(0, r.sent_ago_ms),
    cancelRequested: r.cancel_requested,
    shipmentId: r.shipment_id,
  };
}

/**
 * Take the row for one attempt (under the lock of {@link lockRow}): in_flight, and a new claim number
 * that every later write of this attempt must match. An earlier attempt still running (its worker cut
 * off from Temporal, say) is superseded: its writes change nothing from now on.
 */
export async function takeClaim(c: pg.PoolClient, batchId: string, rowNo: number): Promise<number> {
  const { rows } = await c.query<{ claim: number }>(
    `UPDATE batch_rows SET status = 'in_flight', claim = claim + 1, attempts = attempts + 1,
            in_flight_since = COALESCE(in_flight_since, now()), updated_at = now()
      WHERE batch_id = $1 AND row_no = $2 RETURNING claim`,
    [batchId, rowNo],
  );
  return rows[0]!.claim;
}

/** The row and claim an attempt writes for. */
export interface Claim {
  batchId: string;
  rowNo: number;
  claim: number;
}

/**
 * Right before create_shipment leaves: record that a create is being sent, only if this attempt still
 * owns the row and no cancel was accepted. 'sent' = go ahead; otherwise send nothing.
 */
export async function stampCreate(
  pool: pg.Pool,
  k: Claim,
): Promise<'sent' | 'superseded' | 'cancel_requested'> {
  return inTransaction(pool, async (c) => {
    const row = await lockRow(c, k.batchId, k.rowNo);
    if (!row || row.claim !== k.claim || row.status !== 'in_flight') return 'superseded';
    if (row.cancelRequested) return 'cancel_requested';
    await c.query(
      `UPDATE batch_rows SET create_sent_at = now(), creates_sent = creates_sent + 1, updated_at = now()
        WHERE batch_id = $1 AND row_no = $2`,
      [k.batchId, k.rowNo],
    );
    return 'sent';
  });
}

/** Move this attempt's row from in_flight to another state; false when the claim was superseded. */
export async function settleClaim(
  db: Db,
  k: Claim,
  to: 'pending' | 'failed' | 'needs_review' | 'cancelled',
  why?: { code?: string; message: string },
): Promise<boolean> {
  const message = why?.message.slice(0, 2000) ?? null;
  const { rowCount } = await db.query(
    `UPDATE batch_rows SET status = $4, updated_at = now(),
            ups_error_code = CASE $4 WHEN 'failed' THEN $5 WHEN 'pending' THEN NULL ELSE ups_error_code END,
            ups_error_message = CASE $4 WHEN 'failed' THEN $6 WHEN 'pending' THEN NULL ELSE ups_error_message END,
            review_reason = CASE $4 WHEN 'needs_review' THEN $6 WHEN 'pending' THEN NULL ELSE review_reason END
      WHERE batch_id = $1 AND row_no = $2 AND claim = $3 AND status = 'in_flight'`,
    [k.batchId, k.rowNo, k.claim, to, why?.code ?? null, message],
  );
  return (rowCount ?? 0) > 0;
}

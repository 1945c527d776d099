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

interface LockedRowColumns {
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
}

/**
 * A new claim on the row, as the SET of an UPDATE of batch_rows: in flight, the next fencing number. Columns
 * are qualified: {@link lockAndClaim} joins a CTE with columns of the same names.
 */
const TAKE_CLAIM_SET = `status = 'in_flight', claim = batch_rows.claim + 1, attempts = batch_rows.attempts + 1,
            in_flight_since = COALESCE(batch_rows.in_flight_since, now()), updated_at = now()`;

/** The row, locked for the statement's transaction ($1 batch, $2 row). */
const LOCK_ROW = `SELECT r.status, r.reference, r.request, r.in_flight_since, r.cost_cents, r.currency, r.claim,
            r.shipment_id, (extract(epoch FROM now() - r.create_sent_at) * 1000)::float8 AS sent_ago_ms,
            (b.cancel_requested_at IS NOT NULL) AS cancel_requested
       FROM batch_rows r JOIN batches b USING (batch_id)
      WHERE r.batch_id = $1 AND r.row_no = $2 FOR UPDATE OF r`;

export async function lockRow(
  c: pg.PoolClient,
  batchId: string,
  rowNo: number,
): Promise<LockedRow | undefined> {
  const { rows } = await c.query<LockedRowColumns>(LOCK_ROW, [batchId, rowNo]);
  const r = rows[0];
  return r ? toLockedRow(r) : undefined;
}

function toLockedRow(r: LockedRowColumns): LockedRow {
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
 * Lock the row and, when it may be shipped (in flight; or pending with no cancel accepted), take a claim for
 * this attempt, as {@link lockRow} then {@link takeClaim} do, in ONE statement (one round trip instead of four
 * on every row's path). `claim` is undefined when nothing was taken: the row is settled, pending under a
 * cancel, or missing (`row` undefined); the caller then decides in a transaction of its own.
 */
export async function lockAndClaim(
  pool: pg.Pool,
  batchId: string,
  rowNo: number,
): Promise<{ row: LockedRow | undefined; claim: number | undefined }> {
  // Both parts see the row as locked by `cur`: the UPDATE re-reads the locked version, so `claim + 1` counts
  // from the latest claim even when another attempt changed the row while we waited for the lock.
  const { rows } = await pool.query<LockedRowColumns & { new_claim: number | null }>(
    `WITH cur AS (${LOCK_ROW}),
     taken AS (
       UPDATE batch_rows SET ${TAKE_CLAIM_SET}
         FROM cur
        WHERE batch_rows.batch_id = $1 AND batch_rows.row_no = $2
          AND (cur.status = 'in_flight' OR (cur.status = 'pending' AND NOT cur.cancel_requested))
        RETURNING batch_rows.claim
     )
     SELECT cur.*, (SELECT claim FROM taken) AS new_claim FROM cur`,
    [batchId, rowNo],
  );
  const r = rows[0];
  if (!r) return { row: undefined, claim: undefined };
  return { row: toLockedRow(r), claim: r.new_claim ?? undefined };
}

/**
 * Take the row for one attempt (under the lock of {@link lockRow}): in_flight, and a new claim number
 * that every later write of this attempt must match. An earlier attempt still running (its worker cut
 * off from Temporal, say) is superseded: its writes change nothing from now on.
 */
export async function takeClaim(c: pg.PoolClient, batchId: string, rowNo: number): Promise<number> {
  const { rows } = await c.query<{ claim: number }>(
    `UPDATE batch_rows SET ${TAKE_CLAIM_SET} WHERE batch_id = $1 AND row_no = $2 RETURNING claim`,
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
  // One statement on the path every row takes: the UPDATE locks the row and re-checks the claim on its
  // latest version (what lockRow + UPDATE in a transaction did, in one round trip instead of four).
  const { rowCount } = await pool.query(
    `UPDATE batch_rows r SET create_sent_at = now(), creates_sent = r.creates_sent + 1, updated_at = now()
       FROM batches b
      WHERE r.batch_id = $1 AND r.row_no = $2 AND r.claim = $3 AND r.status = 'in_flight'
        AND b.batch_id = r.batch_id AND b.cancel_requested_at IS NULL`,
    [k.batchId, k.rowNo, k.claim],
  );
  if ((rowCount ?? 0) > 0) return 'sent';
  // Nothing is sent either way; only why matters (a cancel settles the row as cancelled, unsent).
  return inTransaction(pool, async (c) => {
    const row = await lockRow(c, k.batchId, k.rowNo);
    if (!row || row.claim !== k.claim || row.status !== 'in_flight') return 'superseded';
    return row.cancelRequested ? 'cancel_requested' : 'superseded';
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

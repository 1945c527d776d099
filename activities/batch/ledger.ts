/**
 * The one ledger module: every read and write of `batches`, `batch_rows` and `labels`. Row data lives
 * here and only here; the workflow sees row numbers, counts and cents.
 */
import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { newReferenceKey } from '../../domain/reference';
import {
  COUNT_FIELD,
  emptyCounts,
  type BatchInput,
  type ExtraShipmentCounts,
  type RowCounts,
} from '../../domain/batch';
import type { RowStatus } from '../../domain/row-status';
import type { RowError } from '../../domain/row-error';
import type { PackageLabel } from '../../domain/label';

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

/**
 * The batch record; idempotent (a retried load finds it). A new record gets a random reference key
 * (domain/reference.ts); an existing one keeps its key (a record from before keys existed gets one).
 */
export async function upsertBatch(db: Db, batchId: string, input: BatchInput): Promise<void> {
  const referenceKey = newReferenceKey(batchId, () => randomInt(0, 2 ** 32) / 2 ** 32);
  await db.query(
    `INSERT INTO batches (batch_id, name, mode, phase, source_table, key_column, filter, template, shipper, options,
                          reference_key)
     VALUES ($1, $2, $3, 'loading', $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (batch_id) DO UPDATE
       SET updated_at = now(), reference_key = COALESCE(batches.reference_key, EXCLUDED.reference_key)`,
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
      referenceKey,
    ],
  );
}

export interface BatchRecord {
  batchId: string;
  input: BatchInput;
  loadedAt: Date | null;
  /** The middle of every row reference of this batch. */
  referenceKey: string;
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
    reference_key: string;
  }>(`SELECT * FROM batches WHERE batch_id = $1`, [batchId]);
  const r = rows[0];
  if (!r) return undefined;
  return {
    batchId,
    loadedAt: r.loaded_at,
    referenceKey: r.reference_key,
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

export interface LedgerTotals {
  counts: RowCounts;
  /** Sum of the shipped rows' cost (voided rows no longer cost anything). */
  costCents: number;
  currency?: string;
  /** Shipments made for a row beyond its own (present only when there are any). */
  extraShipments?: ExtraShipmentCounts;
  /** Shipped rows whose cost is a rate quote rather than UPS's charges (present only when there are any). */
  estimatedCostRows?: number;
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
  };
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
  return inTransaction(pool, async (c) => {
    const row = await lockRow(c, batchId, rowNo);
    if (!row) throw new Error(`row ${rowNo} of ${batchId} is not in the ledger`);
    const closed = row.status === 'shipped' || row.status === 'voided' || row.status === 'cancelled';
    if (closed) {
      // Without a shipment id nothing can be voided or told apart: taken as the row's own.
      if (s.shipmentId === undefined || s.shipmentId === row.shipmentId) return 'same';
      await c.query(
        `INSERT INTO extra_shipments (batch_id, row_no, shipment_id, tracking_numbers, cost_cents, currency, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'to_void') ON CONFLICT (batch_id, shipment_id) DO NOTHING`,
        [batchId, rowNo, s.shipmentId, s.trackingNumbers, s.costCents, s.currency],
      );
      return 'extra';
    }
    await c.query(
      `UPDATE batch_rows SET status = 'shipped', tracking_numbers = $3, shipment_id = $4, cost_cents = $5,
              currency = $6, shipped_at = now(), updated_at = now(), ups_error_code = NULL,
              ups_error_message = NULL, review_reason = NULL, resolved_by = $7, cost_estimated = $8
        WHERE batch_id = $1 AND row_no = $2`,
      [
        batchId,
        rowNo,
        s.trackingNumbers,
        s.shipmentId ?? null,
        s.costCents,
        s.currency,
        s.resolvedBy ?? null,
        s.costEstimated === true,
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
    return 'stored';
  });
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

/** Accept a cancel in the ledger: from now on shipRow sends no create for this batch. Idempotent. */
export async function requestCancel(db: Db, batchId: string): Promise<void> {
  await db.query(
    `UPDATE batches SET cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now()
      WHERE batch_id = $1`,
    [batchId],
  );
}

/** The preview's quote of one row: cents (null when UPS gave none) and the row's warnings. */
export interface RowEstimate {
  rowNo: number;
  cents: number | null;
  currency: string | null;
  warnings: string[];
}

/**
 * Rows the preview still has to rate, in order: among the first `within` valid rows, those after
 * `afterRowNo` with no stored quote yet (a resumed preview skips what an earlier attempt rated).
 */
export async function unratedRows(
  db: Db,
  batchId: string,
  afterRowNo: number,
  within: number,
  limit: number,
): Promise<{ rowNo: number; request: unknown }[]> {
  const { rows } = await db.query<{ row_no: number; request: unknown }>(
    `SELECT r.row_no, r.request FROM batch_rows r
      WHERE r.batch_id = $1 AND r.row_no > $2 AND r.rated_at IS NULL AND r.row_no IN (
              SELECT row_no FROM batch_rows WHERE batch_id = $1 AND status <> 'invalid' ORDER BY row_no LIMIT $3)
      ORDER BY r.row_no LIMIT $4`,
    [batchId, afterRowNo, within, limit],
  );
  return rows.map((r) => ({ rowNo: r.row_no, request: r.request }));
}

/** Store a page of quotes (one statement). */
export async function storeEstimates(
  db: Db,
  batchId: string,
  estimates: readonly RowEstimate[],
): Promise<void> {
  if (estimates.length === 0) return;
  await db.query(
    `UPDATE batch_rows r SET estimate_cents = t.cents, estimate_currency = t.currency,
            estimate_warnings = t.warnings, rated_at = now()
       FROM jsonb_to_recordset($2::jsonb) AS t(row_no int, cents bigint, currency text, warnings jsonb)
      WHERE r.batch_id = $1 AND r.row_no = t.row_no`,
    [
      batchId,
      JSON.stringify(
        estimates.map((e) => ({
          row_no: e.rowNo,
          cents: e.cents,
          currency: e.currency,
          warnings: e.warnings,
        })),
      ),
    ],
  );
}

/** What the stored quotes add up to: quoted rows, their sum, the currency, rows with warnings. */
export async function estimateSummary(
  db: Db,
  batchId: string,
): Promise<{
  rated: number;
  quoted: number;
  sumCents: number;
  currency: string | null;
  withWarnings: number;
}> {
  const { rows } = await db.query<{
    rated: number;
    quoted: number;
    sum: string | null;
    currency: string | null;
    warned: number;
  }>(
    `SELECT count(*)::int AS rated, count(estimate_cents)::int AS quoted, sum(estimate_cents) AS sum, max(estimate_currency) AS currency,
            count(*) FILTER (WHERE jsonb_array_length(estimate_warnings) > 0)::int AS warned
       FROM batch_rows WHERE batch_id = $1 AND rated_at IS NOT NULL`,
    [batchId],
  );
  const r = rows[0]!;
  return {
    rated: r.rated,
    quoted: r.quoted,
    sumCents: Number(r.sum ?? 0),
    currency: r.currency,
    withWarnings: r.warned,
  };
}

/** The preview's detailed rows: the first `limit` valid rows, their request and stored quote. */
export async function previewDetailRows(
  db: Db,
  batchId: string,
  limit: number,
): Promise<{ rowNo: number; request: unknown; estimate: RowEstimate | undefined }[]> {
  const { rows } = await db.query<{
    row_no: number;
    request: unknown;
    estimate_cents: string | null;
    estimate_currency: string | null;
    estimate_warnings: string[] | null;
    rated_at: Date | null;
  }>(
    `SELECT row_no, request, estimate_cents, estimate_currency, estimate_warnings, rated_at FROM batch_rows
      WHERE batch_id = $1 AND status <> 'invalid' ORDER BY row_no LIMIT $2`,
    [batchId, limit],
  );
  return rows.map((r) => ({
    rowNo: r.row_no,
    request: r.request,
    estimate: r.rated_at
      ? {
          rowNo: r.row_no,
          cents: r.estimate_cents === null ? null : Number(r.estimate_cents),
          currency: r.estimate_currency,
          warnings: r.estimate_warnings ?? [],
        }
      : undefined,
  }));
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

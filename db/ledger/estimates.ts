/** The preview's rows in the ledger: rows to rate, their stored quotes and sum, row checksums. */
import type { AddressCheckResult, ServiceChoiceResult } from '../../domain/preflight';
import type { Db } from './transaction';

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
): Promise<
  {
    rowNo: number;
    request: unknown;
    estimate: RowEstimate | undefined;
    addressCheck?: AddressCheckResult;
    serviceChoice?: ServiceChoiceResult;
  }[]
> {
  const { rows } = await db.query<{
    row_no: number;
    request: unknown;
    address_check: AddressCheckResult | null;
    service_choice: ServiceChoiceResult | null;
    estimate_cents: string | null;
    estimate_currency: string | null;
    estimate_warnings: string[] | null;
    rated_at: Date | null;
  }>(
    `SELECT row_no, request, estimate_cents, estimate_currency, estimate_warnings, rated_at, address_check, service_choice
       FROM batch_rows
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
    ...(r.address_check ? { addressCheck: r.address_check } : {}),
    ...(r.service_choice ? { serviceChoice: r.service_choice } : {}),
  }));
}

/**
 * `row_no:checksum` of every row, in order (the previewHash input). A row the pre-flight settled adds its
 * address outcome, its chosen service and a digest of the request it ships (what the operator approves);
 * rows of a batch without pre-flight give the same lines as before it existed.
 */
export async function rowChecksums(db: Db, batchId: string): Promise<string[]> {
  const { rows } = await db.query<{ line: string }>(
    `SELECT row_no || ':' || checksum ||
            CASE WHEN address_checked_at IS NULL AND shopped_at IS NULL THEN ''
                 ELSE ':' || status || ':' || coalesce(address_check->>'outcome', '-') || ':' ||
                      coalesce(service_choice->>'code', '-') || ':' || md5(coalesce(request::text, '')) END AS line
       FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
    [batchId],
  );
  return rows.map((r) => r.line);
}

/** A row's stored request and the preview's quote of it (null when none), to price a shipment UPS did not. */
export async function requestAndEstimate(
  db: Db,
  batchId: string,
  rowNo: number,
): Promise<{ request: unknown; cents: number | null; currency: string | null } | undefined> {
  const { rows } = await db.query<{
    request: unknown;
    estimate_cents: string | null;
    estimate_currency: string | null;
  }>(
    `SELECT request, estimate_cents, estimate_currency FROM batch_rows WHERE batch_id = $1 AND row_no = $2`,
    [batchId, rowNo],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    request: row.request,
    cents: row.estimate_cents === null ? null : Number(row.estimate_cents),
    currency: row.estimate_currency,
  };
}

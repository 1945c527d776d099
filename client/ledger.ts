/**
 * The client's reads of the ledger: rows, labels, the full preview, attention hints, shaped for callers (the
 * statements are db/ledger/). Row data is read here, in the caller's process, never through workflow history.
 */
import type pg from 'pg';
import type { BatchPreview, RowCounts } from '../domain/batch';
import type { AddressCheckResult, PostalAddress } from '../domain/preflight';
import { ROW_STATUSES, type RowStatus } from '../domain/row-status';
import type { RowError } from '../domain/row-error';
import { batchExists, getPreview } from '../db/ledger/batches';
import {
  latestErroredRow,
  selectLabels,
  selectRows,
  type ExtraShipment,
  type RowProblemRecord,
} from '../db/ledger/reads';
import { ledgerTotals } from '../db/ledger/totals';
import { normalizeBatchId } from './batch-ids';
import { BatchInputError, BatchNotFoundError } from './errors';

/** One ledger row as `rows` and `batchRows` show it. */
export interface BatchRow {
  rowNo: number;
  sourceKey: string;
  status: RowStatus;
  trackingNumbers: string[];
  /** Cost of a shipped row in cents; null until shipped. */
  costCents: number | null;
  currency: string | null;
  /** Validation errors of an invalid row (path-precise). */
  errors: RowError[];
  upsErrorCode: string | null;
  upsErrorMessage: string | null;
  reviewReason: string | null;
  /** One line: what went wrong with this row (invalid, failed or needs review), else null. */
  error: string | null;
  /** The cost is a rate quote, not UPS's charges (a shipment found again by reference, or recorded by an operator). */
  costEstimated: boolean;
  /**
   * Shipments UPS made for this row beyond its own (a superseded attempt's): each voided, or `void_failed`
   * with UPS's reason for an operator to void by hand. Empty for almost every row.
   */
  extraShipments: ExtraShipment[];
}

export type { ExtraShipment };

/** One label: a package of a shipped row. */
export interface BatchLabel {
  rowNo: number;
  packageIndex: number;
  trackingNumber: string;
  format: 'GIF' | 'ZPL' | 'PNG' | 'PDF';
  image: Buffer;
}

/** A row status from the caller, checked against the fixed list. */
export function checkRowStatus(status: string | undefined): RowStatus | undefined {
  if (status !== undefined && !(ROW_STATUSES as readonly string[]).includes(status)) {
    throw new BatchInputError(`unknown row status ${JSON.stringify(status)}`, {
      fix: `use one of ${ROW_STATUSES.join(', ')}`,
    });
  }
  return status as RowStatus | undefined;
}

export { batchExists };

/** One validation error as a line: `E-2001 ShipTo.Address.PostalCode: …` (the path once). */
export function formatRowError(e: RowError): string {
  const msg = e.path && !e.message.startsWith(e.path) ? `${e.path}: ${e.message}` : e.message;
  return `${e.code} ${msg}`;
}

function rowError(r: RowProblemRecord): string | null {
  if (r.status === 'invalid' && r.errors?.length) {
    return r.errors.map(formatRowError).join('; ');
  }
  if (r.ups_error_code || r.ups_error_message) {
    return [r.ups_error_code, r.ups_error_message].filter(Boolean).join(' ');
  }
  return r.review_reason ?? null;
}

/** A page of a batch's rows in row order, optionally of one status. */
export async function readRows(
  db: pg.Pool,
  batchId: string,
  opts: { status?: RowStatus; afterRowNo?: number; limit?: number } = {},
): Promise<BatchRow[]> {
  const rows = await selectRows(db, batchId, opts);
  return rows.map((r) => ({
    rowNo: r.row_no,
    sourceKey: r.source_key,
    status: r.status,
    trackingNumbers: r.tracking_numbers ?? [],
    costCents: r.cost_cents === null ? null : Number(r.cost_cents),
    currency: r.currency,
    errors: r.errors ?? [],
    upsErrorCode: r.ups_error_code,
    upsErrorMessage: r.ups_error_message,
    reviewReason: r.review_reason,
    error: rowError(r),
    costEstimated: r.cost_estimated,
    extraShipments: r.extras ?? [],
  }));
}

/**
 * Every row of a batch (optionally of one status) in row order, read `pageSize` rows a query with a keyset
 * cursor (`row_no > last`, on the primary key or the (batch, status, row) index): memory stays at one page
 * whatever the batch's size, and each row comes once even while the batch moves on (as it was when its page
 * was read).
 */
export async function* streamRows(
  db: pg.Pool,
  batchId: string,
  opts: { status?: RowStatus; pageSize?: number } = {},
): AsyncGenerator<BatchRow> {
  const pageSize = opts.pageSize ?? 1000;
  let after = 0;
  for (;;) {
    const page = await readRows(db, batchId, { status: opts.status, afterRowNo: after, limit: pageSize });
    yield* page;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.rowNo;
  }
}

/**
 * `rows ID`: every row of a user's batch id, optionally of one status, streamed ({@link streamRows}) once
 * the id and status are checked and the ledger knows the batch (else {@link BatchNotFoundError}).
 */
export async function* batchRowStream(
  db: pg.Pool,
  batchId: string,
  opts: { status?: string; pageSize?: number } = {},
): AsyncGenerator<BatchRow> {
  const id = normalizeBatchId(batchId);
  const status = checkRowStatus(opts.status);
  if (!(await batchExists(db, id))) throw new BatchNotFoundError(id);
  yield* streamRows(db, id, { status, pageSize: opts.pageSize });
}

/** Labels of the shipped rows, in row then package order, a page at a time (images can be large). */
export async function* readLabels(db: pg.Pool, batchId: string, pageSize = 100): AsyncGenerator<BatchLabel> {
  let after: [number, number] = [0, -1];
  for (;;) {
    const rows = await selectLabels(db, batchId, after, pageSize);
    for (const r of rows) {
      yield {
        rowNo: r.row_no,
        packageIndex: r.package_index,
        trackingNumber: r.tracking_number,
        format: r.format,
        image: r.image,
      };
    }
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1]!;
    after = [last.row_no, last.package_index];
  }
}

/** The full preview the preview activity stored (recipients included), or null before it ran. */
export async function readPreview(db: pg.Pool, batchId: string): Promise<BatchPreview | null> {
  return (await getPreview(db, batchId)) as BatchPreview | null;
}

/** A row the address check lists: the ShipTo address of its request and UPS's answer (row data). */
export interface AddressCheckRow {
  rowNo: number;
  address: PostalAddress;
  check: AddressCheckResult;
}

/**
 * The address and address check of the given rows (the preview lists the first rows of each outcome): the
 * request's ShipTo address (UPS's candidate once a correction was applied) next to what UPS answered.
 */
export async function readAddressChecks(
  db: pg.Pool,
  batchId: string,
  rowNos: readonly number[],
): Promise<AddressCheckRow[]> {
  if (rowNos.length === 0) return [];
  const { rows } = await db.query<{
    row_no: number;
    address: Record<string, unknown> | null;
    check: AddressCheckResult;
  }>(
    `SELECT row_no, request->'ShipmentRequest'->'Shipment'->'ShipTo'->'Address' AS address, address_check AS check
       FROM batch_rows
      WHERE batch_id = $1 AND row_no = ANY($2::int[]) AND address_check IS NOT NULL
      ORDER BY row_no`,
    [batchId, rowNos.slice(0, 1000)],
  );
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return rows.map((r) => {
    const a = r.address ?? {};
    const lines = Array.isArray(a.AddressLine) ? a.AddressLine.map(text) : [text(a.AddressLine)];
    return {
      rowNo: r.row_no,
      address: {
        addressLines: lines,
        city: text(a.City),
        state: text(a.StateProvinceCode),
        postalCode: text(a.PostalCode),
        countryCode: text(a.CountryCode),
      },
      check: r.check,
    };
  });
}

/** Row counts and shipped cost straight from the ledger (works with no worker running). */
export async function readCounts(
  db: pg.Pool,
  batchId: string,
): Promise<{ counts: RowCounts; costCents: number; currency: string | null }> {
  const totals = await ledgerTotals(db, batchId);
  return { counts: totals.counts, costCents: totals.costCents, currency: totals.currency ?? null };
}

/** The latest row error of a batch (failed or needs review), for `list --attention`. */
export async function lastRowError(db: pg.Pool, batchId: string): Promise<string | null> {
  const r = await latestErroredRow(db, batchId);
  return r ? `row ${r.row_no}: ${rowError(r) ?? r.status}` : null;
}

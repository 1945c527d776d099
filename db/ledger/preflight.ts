/**
 * The pre-flight's rows in the ledger (docs/design.md §3, step 2): the pages still to check or shop, each page's
 * outcomes stored in one statement (only on rows still unsettled, so a zombie attempt cannot apply a change
 * twice), and the summaries the preview shows.
 */
import type {
  AddressCheck,
  AddressCheckResult,
  AddressCheckSummary,
  RateShoppingSummary,
  ServiceChoiceResult,
} from '../../domain/preflight';
import type { RowError } from '../../domain/row-error';
import type { Db } from './transaction';

/** A row the pre-flight asks UPS about: its reference (the call's transaction id) and stored request. */
export interface PreflightRow {
  rowNo: number;
  reference: string;
  request: unknown;
}

export type PreflightStep = 'address' | 'shop';

const DONE_COLUMN: Record<PreflightStep, string> = { address: 'address_checked_at', shop: 'shopped_at' };

/** The next `limit` pending rows the step has not settled, in row order. */
export async function unsettledRows(
  db: Db,
  batchId: string,
  step: PreflightStep,
  limit: number,
): Promise<PreflightRow[]> {
  const { rows } = await db.query<{ row_no: number; reference: string; request: unknown }>(
    `SELECT row_no, reference, request FROM batch_rows
      WHERE batch_id = $1 AND status = 'pending' AND ${DONE_COLUMN[step]} IS NULL
      ORDER BY row_no LIMIT $2`,
    [batchId, limit],
  );
  return rows.map((r) => ({ rowNo: r.row_no, reference: r.reference, request: r.request }));
}

/** Rows the step settled, and rows it has in all (settled + still to do). */
export async function stepProgress(
  db: Db,
  batchId: string,
  step: PreflightStep,
): Promise<{ done: number; total: number }> {
  const col = DONE_COLUMN[step];
  const { rows } = await db.query<{ done: number; todo: number }>(
    `SELECT count(*) FILTER (WHERE ${col} IS NOT NULL)::int AS done,
            count(*) FILTER (WHERE ${col} IS NULL AND status = 'pending')::int AS todo
       FROM batch_rows WHERE batch_id = $1`,
    [batchId],
  );
  const r = rows[0]!;
  return { done: r.done, total: r.done + r.todo };
}

/** One row's settled pre-flight step: its outcome, a changed request, or the errors that make it invalid. */
export interface SettledPreflightRow<T> {
  rowNo: number;
  outcome: T;
  /** The request the row ships from now on (residential indicator, corrected address, chosen service). */
  request?: unknown;
  /** The row is invalid from now on (require, or no service within the limit). */
  errors?: RowError[];
  /** Rate shopping's quote of the chosen service: the row's estimate. */
  estimate?: { cents: number; currency: string; warnings: string[] };
}

/** Store a page of address checks; returns the rows stored (rows settled already are left as they are). */
export function storeAddressChecks(
  db: Db,
  batchId: string,
  rows: readonly SettledPreflightRow<AddressCheckResult>[],
): Promise<number> {
  return storeStep(db, batchId, 'address', rows);
}

/** Store a page of service choices (as {@link storeAddressChecks}). */
export function storeServiceChoices(
  db: Db,
  batchId: string,
  rows: readonly SettledPreflightRow<ServiceChoiceResult>[],
): Promise<number> {
  return storeStep(db, batchId, 'shop', rows);
}

async function storeStep<T>(
  db: Db,
  batchId: string,
  step: PreflightStep,
  rows: readonly SettledPreflightRow<T>[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const [outcomeCol, doneCol] =
    step === 'address' ? ['address_check', 'address_checked_at'] : ['service_choice', 'shopped_at'];
  const { rowCount } = await db.query(
    `UPDATE batch_rows r
        SET ${outcomeCol} = t.outcome, ${doneCol} = now(),
            request = COALESCE(t.request, r.request),
            status = CASE WHEN t.errors IS NULL THEN r.status ELSE 'invalid' END,
            errors = COALESCE(t.errors, r.errors),
            estimate_cents = CASE WHEN t.cents IS NULL THEN r.estimate_cents ELSE t.cents END,
            estimate_currency = CASE WHEN t.cents IS NULL THEN r.estimate_currency ELSE t.currency END,
            estimate_warnings = CASE WHEN t.cents IS NULL THEN r.estimate_warnings ELSE t.warnings END,
            rated_at = CASE WHEN t.cents IS NULL THEN r.rated_at ELSE now() END,
            updated_at = now()
       FROM jsonb_to_recordset($2::jsonb)
         AS t(row_no int, outcome jsonb, request jsonb, errors jsonb, cents bigint, currency text, warnings jsonb)
      WHERE r.batch_id = $1 AND r.row_no = t.row_no AND r.status = 'pending' AND r.${doneCol} IS NULL`,
    [
      batchId,
      JSON.stringify(
        rows.map((r) => ({
          row_no: r.rowNo,
          outcome: r.outcome,
          request: r.request ?? null,
          errors: r.errors ?? null,
          cents: r.estimate?.cents ?? null,
          currency: r.estimate?.currency ?? null,
          warnings: r.estimate?.warnings ?? null,
        })),
      ),
    ],
  );
  return rowCount ?? 0;
}

/** First row numbers listed per outcome. */
const LISTED_ROWS = 10;

/** The address pre-flight's counts per outcome and first rows of each. */
export async function addressCheckSummary(
  db: Db,
  batchId: string,
  mode: AddressCheck,
): Promise<AddressCheckSummary> {
  const { rows } = await db.query<{
    checked: number;
    valid: number;
    corrected: number;
    ambiguous: number;
    not_found: number;
    unchecked: number;
    residential: number;
    invalidated: number;
    applied: number;
    corrected_rows: number[] | null;
    ambiguous_rows: number[] | null;
    not_found_rows: number[] | null;
    unchecked_rows: number[] | null;
  }>(
    `WITH c AS (SELECT row_no, status, address_check->>'outcome' AS outcome, address_check AS ac
                  FROM batch_rows WHERE batch_id = $1 AND address_checked_at IS NOT NULL)
     SELECT count(*)::int AS checked,
            count(*) FILTER (WHERE outcome = 'valid')::int AS valid,
            count(*) FILTER (WHERE outcome = 'corrected')::int AS corrected,
            count(*) FILTER (WHERE outcome = 'ambiguous')::int AS ambiguous,
            count(*) FILTER (WHERE outcome = 'not_found')::int AS not_found,
            count(*) FILTER (WHERE outcome = 'unchecked')::int AS unchecked,
            count(*) FILTER (WHERE ac->>'classification' = 'residential')::int AS residential,
            count(*) FILTER (WHERE status = 'invalid')::int AS invalidated,
            count(*) FILTER (WHERE (ac->>'applied')::boolean)::int AS applied,
            (array_agg(row_no ORDER BY row_no) FILTER (WHERE outcome = 'corrected'))[1:${LISTED_ROWS}] AS corrected_rows,
            (array_agg(row_no ORDER BY row_no) FILTER (WHERE outcome = 'ambiguous'))[1:${LISTED_ROWS}] AS ambiguous_rows,
            (array_agg(row_no ORDER BY row_no) FILTER (WHERE outcome = 'not_found'))[1:${LISTED_ROWS}] AS not_found_rows,
            (array_agg(row_no ORDER BY row_no) FILTER (WHERE outcome = 'unchecked'))[1:${LISTED_ROWS}] AS unchecked_rows
       FROM c`,
    [batchId],
  );
  const r = rows[0]!;
  return {
    mode,
    checked: r.checked,
    valid: r.valid,
    corrected: r.corrected,
    ambiguous: r.ambiguous,
    notFound: r.not_found,
    unchecked: r.unchecked,
    residential: r.residential,
    invalidated: r.invalidated,
    correctedApplied: r.applied,
    rows: {
      corrected: r.corrected_rows ?? [],
      ambiguous: r.ambiguous_rows ?? [],
      notFound: r.not_found_rows ?? [],
      unchecked: r.unchecked_rows ?? [],
    },
  };
}

/** Rate shopping's services, changes and saving (over rows where UPS quoted both services). */
export async function rateShoppingSummary(
  db: Db,
  batchId: string,
  maxTransitDays: number | undefined,
): Promise<RateShoppingSummary> {
  const { rows } = await db.query<{
    shopped: number;
    changed: number;
    no_service: number;
    not_shopped: number;
    template_cents: string | null;
    chosen_cents: string | null;
    currency: string | null;
    services: Record<string, number> | null;
    no_service_rows: number[] | null;
    not_shopped_rows: number[] | null;
  }>(
    `WITH s AS (SELECT row_no, status, service_choice AS sc FROM batch_rows
                 WHERE batch_id = $1 AND shopped_at IS NOT NULL),
          both_quoted AS (SELECT * FROM s WHERE sc ? 'cents' AND sc ? 'templateCents'),
          per_service AS (SELECT sc->>'code' AS code, count(*)::int AS n FROM s WHERE sc ? 'code' GROUP BY 1)
     SELECT (SELECT count(*)::int FROM s) AS shopped,
            (SELECT count(*)::int FROM s WHERE sc ? 'code' AND sc->>'code' <> sc->>'templateCode') AS changed,
            (SELECT count(*)::int FROM s WHERE status = 'invalid') AS no_service,
            (SELECT count(*)::int FROM s WHERE NOT sc ? 'code' AND status <> 'invalid') AS not_shopped,
            (SELECT sum((sc->>'templateCents')::bigint) FROM both_quoted) AS template_cents,
            (SELECT sum((sc->>'cents')::bigint) FROM both_quoted) AS chosen_cents,
            (SELECT max(sc->>'currency') FROM s) AS currency,
            (SELECT jsonb_object_agg(code, n) FROM per_service) AS services,
            (SELECT (array_agg(row_no ORDER BY row_no))[1:${LISTED_ROWS}] FROM s WHERE status = 'invalid') AS no_service_rows,
            (SELECT (array_agg(row_no ORDER BY row_no))[1:${LISTED_ROWS}] FROM s
              WHERE NOT sc ? 'code' AND status <> 'invalid') AS not_shopped_rows`,
    [batchId],
  );
  const r = rows[0]!;
  const templateCents = Number(r.template_cents ?? 0);
  const chosenCents = Number(r.chosen_cents ?? 0);
  return {
    ...(maxTransitDays !== undefined ? { maxTransitDays } : {}),
    shopped: r.shopped,
    changed: r.changed,
    noService: r.no_service,
    notShopped: r.not_shopped,
    services: r.services ?? {},
    templateCents,
    chosenCents,
    savingsCents: templateCents - chosenCents,
    currency: r.currency ?? 'USD',
    rows: { noService: r.no_service_rows ?? [], notShopped: r.not_shopped_rows ?? [] },
  };
}

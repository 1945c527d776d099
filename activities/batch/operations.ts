/**
 * The batch's ledger operations the workflow drives: dispatch pages, counts, operator actions (restart,
 * resolve), settling rows whose retries ran out, voiding on cancel, and writing tracking numbers back.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import type { RowStatus } from '../../domain/row-status';
import type { UpsClient } from '../ups/client';
import type { PendingAction } from '../../domain/batch';
import { isDefinitiveWriteBackError, writeBackTracking } from '../../inputs/source';
import { mapBounded } from '../map-bounded';
import { estimateRowCost } from './row-cost';
import { getBatch } from '../../db/ledger/batches';
import { lockRow } from '../../db/ledger/claims';
import { markRows, rowStatuses, settleExhaustedRow } from '../../db/ledger/rows';
import { shippedRows, storeShipped } from '../../db/ledger/shipments';
import { markWrittenBack, rowsToWriteBack } from '../../db/ledger/write-back';
import { inTransaction } from '../../db/ledger/transaction';
import { NO_METRICS, type ShipbatchMetrics } from '../metrics';

export interface RowActionResult {
  /** Rows put back to be dispatched again. */
  requeued: number;
  /** One line per row the action could not apply to, naming the row and why. */
  problems: string[];
}

const RESTART_FROM: Record<'failed' | 'needs_review' | 'all_unshipped', RowStatus[]> = {
  failed: ['failed'],
  needs_review: ['needs_review'],
  all_unshipped: ['failed', 'needs_review', 'cancelled'],
};

/** Explain why listed rows were left alone (shipped ones are never shipped again). */
async function untouchedRows(
  pool: pg.Pool,
  batchId: string,
  rows: readonly number[],
  allowed: readonly RowStatus[],
) {
  const byNo = await rowStatuses(pool, batchId, rows);
  return rows.flatMap((n) => {
    const status = byNo.get(n);
    if (status === undefined) return [`row ${n} does not exist`];
    if (allowed.includes(status)) return [];
    return [`row ${n} is ${status}${status === 'shipped' ? ': a shipped row is never shipped again' : ''}`];
  });
}

/** Problem lines an activity hands to the workflow at most: history holds no unbounded list. */
export const MAX_PROBLEMS = 20;

/** The first {@link MAX_PROBLEMS} problems, then one line counting the rest and where to see them. */
export function boundProblems(problems: readonly string[], seeMore: string): string[] {
  if (problems.length <= MAX_PROBLEMS) return [...problems];
  return [...problems.slice(0, MAX_PROBLEMS), `… and ${problems.length - MAX_PROBLEMS} more (${seeMore})`];
}

export async function applyRowAction(
  pool: pg.Pool,
  ups: UpsClient,
  args: { batchId: string; action: PendingAction },
  metrics: ShipbatchMetrics = NO_METRICS,
): Promise<RowActionResult> {
  const r = await applyRowActionUnbounded(pool, ups, args, metrics);
  return { ...r, problems: boundProblems(r.problems, `shipbatch rows ${args.batchId}`) };
}

async function applyRowActionUnbounded(
  pool: pg.Pool,
  ups: UpsClient,
  args: { batchId: string; action: PendingAction },
  metrics: ShipbatchMetrics,
): Promise<RowActionResult> {
  const { batchId, action } = args;
  if (action.kind === 'restart') {
    const from = RESTART_FROM[action.scope];
    const problems = action.rows ? await untouchedRows(pool, batchId, action.rows, from) : [];
    // Rows that need review may have shipped: they go back in_flight, so shipRow reconciles before any create.
    const reconcile = from.includes('needs_review')
      ? await markRows(pool, batchId, ['needs_review'], 'in_flight', action.rows)
      : 0;
    const fresh = await markRows(
      pool,
      batchId,
      from.filter((s) => s !== 'needs_review'),
      'pending',
      action.rows,
    );
    return { requeued: reconcile + fresh, problems };
  }
  if (action.outcome === 'retry') {
    // The operator checked that it did not ship: a fresh create.
    const problems = await untouchedRows(pool, batchId, [action.row], ['needs_review', 'failed']);
    const requeued = await markRows(pool, batchId, ['needs_review', 'failed'], 'pending', [action.row]);
    return { requeued, problems };
  }
  const problems = await inTransaction(pool, async (c) => {
    const row = await lockRow(c, batchId, action.row);
    if (!row) return [`row ${action.row} does not exist`];
    if (row.status !== 'needs_review' && row.status !== 'failed') {
      return [`row ${action.row} is ${row.status}; only rows that failed or need review can be resolved`];
    }
    return [];
  });
  if (problems.length === 0) {
    // UPS told the operator, not us, what it charged: the row's cost is a rate quote, marked as such.
    const quote = await estimateRowCost(pool, ups, batchId, action.row);
    const stored = await storeShipped(pool, batchId, action.row, {
      trackingNumbers: [action.trackingNumber],
      costCents: quote?.cents ?? null,
      currency: quote?.currency ?? null,
      costEstimated: quote !== undefined,
      labels: [],
      resolvedBy: 'operator',
    });
    if (stored === 'stored') metrics.rowOutcome(batchId, 'shipped');
  }
  return { requeued: 0, problems };
}

/** A row whose shipRow retries ran out: in_flight may exist at UPS (needs review), pending did not ship. */
export async function settleRow(
  pool: pg.Pool,
  args: { batchId: string; rowNo: number; reason: string },
  metrics: ShipbatchMetrics = NO_METRICS,
): Promise<RowStatus> {
  const { status, changed } = await settleExhaustedRow(pool, args.batchId, args.rowNo, args.reason);
  if (changed && (status === 'failed' || status === 'needs_review')) metrics.rowOutcome(args.batchId, status);
  return status;
}

/** Void every shipped row through UPS (cancel with voidShipped); refusals are reported per row. */
export async function voidShippedRows(
  pool: pg.Pool,
  ups: UpsClient,
  args: { batchId: string },
): Promise<{ voided: number; problems: string[] }> {
  const r = await voidEveryShippedRow(pool, ups, args);
  return {
    voided: r.voided,
    problems: boundProblems(r.problems, `shipbatch rows ${args.batchId} --status shipped`),
  };
}

async function voidEveryShippedRow(
  pool: pg.Pool,
  ups: UpsClient,
  args: { batchId: string },
): Promise<{ voided: number; problems: string[] }> {
  const rows = await shippedRows(pool, args.batchId);
  const ctx = Context.current();
  const problems: string[] = [];
  let voided = 0;
  await mapBounded(rows, 4, async (r) => {
    const shipmentId = r.shipmentId ?? r.trackingNumbers?.[0];
    if (!shipmentId) {
      problems.push(`row ${r.rowNo}: no shipment id to void`);
      return;
    }
    try {
      const res = await ups.voidShipment(shipmentId, undefined, ctx.cancellationSignal);
      if (!res.voided) throw new Error(res.status || 'UPS did not confirm the void');
      await markRows(pool, args.batchId, ['shipped'], 'voided', [r.rowNo]);
      voided++;
    } catch (err) {
      problems.push(`row ${r.rowNo}: void refused: ${(err as Error).message}`);
    } finally {
      ctx.heartbeat({ voided });
    }
  });
  return { voided, problems };
}

/** Rows written back per UPDATE (and per ledger mark): a 100,000-row batch is not one huge transaction. */
const WRITE_BACK_PAGE = 1000;

/**
 * Write tracking numbers of shipped rows back to the source column; idempotent (only rows not yet written),
 * page by page. A problem no retry fixes (no such column, a value that does not fit) is a non-retryable
 * `WriteBackError` naming the table and column; the workflow reports it and still finishes.
 */
export async function writeBack(pool: pg.Pool, args: { batchId: string }): Promise<{ written: number }> {
  const batch = await getBatch(pool, args.batchId);
  const column = batch?.input.options.writeBack?.column;
  if (!batch || !column) return { written: 0 };
  const ctx = Context.current();
  let written = 0;
  for (;;) {
    const rows = await rowsToWriteBack(pool, args.batchId, WRITE_BACK_PAGE);
    if (rows.length === 0) return { written };
    try {
      await writeBackTracking(pool, {
        table: batch.input.source.table,
        keyColumn: batch.input.source.keyColumn,
        column,
        rows: rows.map((r) => ({ key: r.sourceKey, trackingNumber: r.trackingNumbers.join(' ') })),
      });
    } catch (err) {
      if (!isDefinitiveWriteBackError(err)) throw err;
      throw ApplicationFailure.create({
        type: 'WriteBackError',
        nonRetryable: true,
        message: `write-back to ${batch.input.source.table}.${column}: ${(err as Error).message}`,
      });
    }
    await markWrittenBack(
      pool,
      args.batchId,
      rows.map((r) => r.rowNo),
    );
    written += rows.length;
    ctx.heartbeat({ written });
  }
}

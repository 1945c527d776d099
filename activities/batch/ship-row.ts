/**
 * `shipRow`: exactly one UPS shipment per row (DESIGN §4).
 * 1. In one transaction: lock the row; shipped → return the stored result (no UPS call); in_flight (an
 *    earlier attempt died mid-call) → reconcile; pending → mark in_flight and commit before calling UPS.
 * 2. create_shipment; on success store tracking numbers, charges and labels and mark shipped, together.
 * 3. Reconcile: ask UPS for the shipment by its reference (recover_label). Found → shipped with what UPS
 *    holds. Not found → ship again only once "not found" has lasted past the grace period. Lookup
 *    impossible → needs_review: never ship blind.
 * A definitive UPS error fails the row (non-retryable); a retryable one provably did not ship, so the row
 * goes back to pending; an ambiguous one leaves it in_flight, and the retry reconciles.
 */
import { ApplicationFailure, Context, sleep } from '@temporalio/activity';
import type pg from 'pg';
import type { RowStatus } from '../../domain/row-status';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import type { UpsClient } from '../ups/client';
import { toActivityFailure, UpsError } from '../ups/errors';
import {
  inTransaction,
  lockRow,
  markFailed,
  markInFlight,
  markNeedsReview,
  markRows,
  storeShipped,
} from './ledger';

export interface ShipRowResult {
  rowNo: number;
  /** The row's state after this call. Rows that are not shippable any more (cancelled) come back as they are. */
  status: RowStatus;
  costCents: number;
  currency?: string;
}

export interface ShipRowDeps {
  pool: pg.Pool;
  ups: UpsClient;
  /** How long a "not found" must last before a doubtful row is shipped again. */
  reconcileGraceMs: number;
}

/** How often the reconcile lookup asks again while waiting out the grace period. */
const RECONCILE_POLL_MS = 500;

export async function shipRow(
  deps: ShipRowDeps,
  args: { batchId: string; rowNo: number },
): Promise<ShipRowResult> {
  const { pool, ups } = deps;
  const { batchId, rowNo } = args;
  const ctx = Context.current();
  const claim = await inTransaction(pool, async (c) => {
    const row = await lockRow(c, batchId, rowNo);
    if (!row)
      throw ApplicationFailure.create({
        type: 'BatchSourceError',
        message: `row ${rowNo} is not in the ledger`,
        nonRetryable: true,
      });
    if (row.status === 'pending') {
      await markInFlight(c, batchId, rowNo);
      return { kind: 'create' as const, row };
    }
    if (row.status === 'in_flight') return { kind: 'reconcile' as const, row };
    return { kind: 'settled' as const, row };
  });
  const { row } = claim;
  if (claim.kind === 'settled') {
    return {
      rowNo,
      status: row.status,
      costCents: row.costCents ?? 0,
      ...(row.currency ? { currency: row.currency } : {}),
    };
  }
  const request = row.request as ShipmentRequestBody;
  const shipper = request.ShipmentRequest.Shipment.Shipper.ShipperNumber;
  const format = request.ShipmentRequest.LabelSpecification.LabelImageFormat.Code;

  if (claim.kind === 'reconcile') {
    // "Not found" must hold for the whole grace period from the first lookup: UPS can lag right after a shipment.
    let firstNotFound: number | undefined;
    for (;;) {
      let found;
      try {
        found = await ups.recoverByReference(row.reference, shipper, format, ctx.cancellationSignal);
      } catch (err) {
        const why = `could not tell whether reference ${row.reference} shipped: ${(err as Error).message}`;
        await markNeedsReview(pool, batchId, rowNo, why);
        return { rowNo, status: 'needs_review', costCents: 0 };
      }
      if (found) {
        await storeShipped(pool, batchId, rowNo, {
          shipmentId: found.shipmentId,
          trackingNumbers: found.labels.map((l) => l.trackingNumber).filter(Boolean),
          costCents: null,
          currency: null,
          labels: found.labels,
        });
        return { rowNo, status: 'shipped', costCents: 0 };
      }
      firstNotFound ??= Date.now();
      if (Date.now() - firstNotFound >= deps.reconcileGraceMs) break;
      ctx.heartbeat({ reconciling: row.reference });
      await sleep(Math.min(RECONCILE_POLL_MS, deps.reconcileGraceMs));
    }
    // Not found for longer than the grace period: it never reached UPS; ship it now.
    await markInFlight(pool, batchId, rowNo);
  }

  let result;
  try {
    result = await ups.createShipment(request, ctx.cancellationSignal);
  } catch (err) {
    if (!(err instanceof UpsError)) throw err;
    if (err.errorClass === 'definitive') {
      await markFailed(pool, batchId, rowNo, err.code, err.message);
    } else if (err.errorClass === 'retryable') {
      // UPS provably did not create it (429, 503 before processing): the retry need not reconcile.
      await markRows(pool, batchId, ['in_flight'], 'pending', [rowNo]);
    }
    // ambiguous: left in_flight, so the retry reconciles through recover_label.
    throw toActivityFailure(err);
  }
  await storeShipped(pool, batchId, rowNo, {
    shipmentId: result.shipmentId,
    trackingNumbers: result.trackingNumbers,
    costCents: result.totalCents,
    currency: result.currency,
    labels: result.labels,
  });
  return { rowNo, status: 'shipped', costCents: result.totalCents, currency: result.currency };
}

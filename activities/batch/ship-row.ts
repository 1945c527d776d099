/**
 * `shipRow`: exactly one UPS shipment per row (docs/exactly-once.md).
 * 1. In one transaction: lock the row; settled → return it as it is (no UPS call); pending → take a claim
 *    (in_flight, a new fencing number); in_flight → take a claim and reconcile if a create may have left.
 *    An earlier attempt still running is superseded by the new claim: its writes change nothing.
 * 2. Right before create_shipment leaves (a session is free): stamp the send time, only if the claim is
 *    still ours and no cancel was accepted; else nothing is sent.
 * 3. Reconcile: ask UPS for the shipment by its reference (recover_label). Found → shipped with what UPS
 *    holds. Not found → ship again only when no earlier create can still appear: "not found" must hold
 *    for the grace period counted from the later of (the last send + the call timeout) and the first
 *    lookup; with a UPS server that may hold calls past the timeout, never (needs_review). A lookup that
 *    fails for a transient reason is retried with backoff; one that keeps failing → needs_review.
 * A definitive UPS error fails the row (non-retryable); a retryable one provably did not ship, so the row
 * goes back to pending; an ambiguous one leaves it in_flight, and the retry reconciles. A shipment that
 * arrives for a row that already has one is an extra shipment: recorded and voided, never lost.
 */
import { ApplicationFailure, Context, sleep } from '@temporalio/activity';
import type pg from 'pg';
import type { RowStatus } from '../../domain/row-status';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import { SendWithheld, type UpsClient } from '../ups/client';
import { toActivityFailure, UpsError, upsOutageOf, type UpsOutageSign } from '../ups/errors';
import type { RecoveredLabels } from '../ups/normalize';
import { estimateRowCost } from './row-cost';
import {
  lockAndClaim,
  lockRow,
  settleClaim,
  stampCreate,
  takeClaim,
  type Claim,
  type LockedRow,
} from '../../db/ledger/claims';
import { settleExtraShipment, storeShipped, type ShippedRecord } from '../../db/ledger/shipments';
import { inTransaction } from '../../db/ledger/transaction';
import { cancelUnsentRow } from '../../db/ledger/rows';
import { NO_METRICS, type ShipbatchMetrics } from '../metrics';

export interface ShipRowResult {
  rowNo: number;
  /** The row's state after this call. Rows that are not shippable any more (cancelled) come back as they are. */
  status: RowStatus;
  costCents: number;
  currency?: string;
  /**
   * UPS itself failed (credentials refused, unreachable, unavailable, rate limiting) and nothing was
   * created: the row is back to `pending` (or still `in_flight` to reconcile later), its retries unspent.
   * The workflow's breaker counts these across rows and pauses the batch (waiting_for_ups).
   */
  upsDown?: UpsOutageSign;
}

export interface ShipRowDeps {
  pool: pg.Pool;
  ups: UpsClient;
  /** How long "not found" must last (after the last create could still have been answered) before a new create. */
  reconcileGraceMs: number;
  /** The UPS client's call timeout: a create sent longer ago than this has ended at the client. */
  callTimeoutMs: number;
  /**
   * False when the UPS server may run a call after the client's timeout (a shared HTTP server that queues
   * calls): then "not found" proves nothing, and a doubtful row goes to needs_review instead of a new create.
   */
  recreateAfterGrace: boolean;
  /** Waits between lookups that failed for a transient reason (429, 503, timeout) before needs_review. */
  lookupRetryDelaysMs?: readonly number[];
  /** Where each outcome this attempt records in the ledger is counted (shipped, failed, needs_review). */
  metrics?: ShipbatchMetrics;
}

/** How often the reconcile lookup asks again while waiting out the grace period. */
const RECONCILE_POLL_MS = 1_000;
export const LOOKUP_RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000] as const;

type Claimed =
  | { kind: 'settled'; row: LockedRow }
  | { kind: 'cancelled' }
  | { kind: 'create'; row: LockedRow; claim: number }
  | { kind: 'reconcile'; row: LockedRow; claim: number };

export async function shipRow(
  deps: ShipRowDeps,
  args: { batchId: string; rowNo: number },
): Promise<ShipRowResult> {
  const { pool, ups } = deps;
  const { batchId, rowNo } = args;
  const ctx = Context.current();
  const claimed = await claimRow(pool, batchId, rowNo);
  if (claimed.kind === 'cancelled') return { rowNo, status: 'cancelled', costCents: 0 };
  if (claimed.kind === 'settled') {
    const { row } = claimed;
    return {
      rowNo,
      status: row.status,
      costCents: row.costCents ?? 0,
      ...(row.currency ? { currency: row.currency } : {}),
    };
  }
  const { row } = claimed;
  const k: Claim = { batchId, rowNo, claim: claimed.claim };
  const request = row.request as ShipmentRequestBody;
  const shipper = request.ShipmentRequest.Shipment.Shipper.ShipperNumber;
  const format = request.ShipmentRequest.LabelSpecification.LabelImageFormat.Code;

  if (claimed.kind === 'reconcile') {
    const outcome = await reconcile(deps, k, row, shipper, format);
    if (outcome) return outcome;
    if (!deps.recreateAfterGrace) {
      const why =
        `reference ${row.reference} not found at UPS, but the UPS server may still run an earlier create ` +
        '(it can hold calls past the timeout): check UPS, then resolve the row';
      return settled(deps, await settleClaim(pool, k, 'needs_review', { message: why }), 'needs_review', k);
    }
    // Not found for the whole grace after any earlier create could have landed: it never reached UPS.
  }

  let result;
  try {
    result = await ups.createShipment(request, ctx.cancellationSignal, async () => {
      const stamp = await stampCreate(pool, k);
      if (stamp !== 'sent') throw new SendWithheld(stamp);
    });
  } catch (err) {
    if (err instanceof SendWithheld) {
      if (err.reason === 'cancel_requested') {
        // The batch was cancelled and this row provably has no shipment: it is cancelled, unsent.
        return settled(deps, await settleClaim(pool, k, 'cancelled'), 'cancelled', k);
      }
      return superseded(pool, k);
    }
    if (!(err instanceof UpsError)) throw err;
    const outage = ctx.cancellationSignal.aborted ? undefined : upsOutageOf(err);
    if (outage && err.errorClass === 'ambiguous') {
      // It may have reached UPS: the row stays in flight and reconciles when it is dispatched again; the
      // workflow counts the failure at once (a UPS that times out is down, not slow on one row).
      ctx.log.warn('UPS call failed', { error: err, rowNo });
      return { rowNo, status: 'in_flight', costCents: 0, upsDown: outage };
    }
    if (outage) {
      ctx.log.warn('UPS call failed', { error: err, rowNo });
      // Nothing was created and the fault is UPS's, not the row's: back to pending, retries unspent;
      // the workflow decides whether to try again or to wait for UPS.
      const took = await settleClaim(pool, k, 'pending');
      if (!took) return superseded(pool, k);
      return { rowNo, status: 'pending', costCents: 0, upsDown: outage };
    }
    if (err.errorClass === 'definitive') {
      if (await settleClaim(pool, k, 'failed', { code: err.code, message: err.message }))
        (deps.metrics ?? NO_METRICS).rowOutcome(batchId, 'failed');
    } else if (err.errorClass === 'retryable') {
      // UPS provably did not create it (a 503 before processing): the retry need not reconcile.
      await settleClaim(pool, k, 'pending');
    }
    // ambiguous: left in_flight, so the retry reconciles through recover_label.
    throw toActivityFailure(err, { rowNo });
  }
  const stored = await storeShipment(deps, k, {
    shipmentId: result.shipmentId,
    trackingNumbers: result.trackingNumbers,
    costCents: result.totalCents,
    currency: result.currency,
    labels: result.labels,
  });
  if (stored !== 'stored' && stored !== 'same') return stored;
  return { rowNo, status: 'shipped', costCents: result.totalCents, currency: result.currency };
}

/**
 * Step 1: the row locked and, when it may be shipped, claimed for this attempt. The path of almost every row
 * (pending, or in flight) takes one statement; a settled row, a pending row under a cancel or a missing one
 * is decided in a transaction of its own.
 */
async function claimRow(pool: pg.Pool, batchId: string, rowNo: number): Promise<Claimed> {
  const fast = await lockAndClaim(pool, batchId, rowNo);
  if (fast.row && fast.claim !== undefined) return toClaimed(fast.row, fast.claim);
  return inTransaction(pool, async (c): Promise<Claimed> => {
    const row = await lockRow(c, batchId, rowNo);
    if (!row)
      throw ApplicationFailure.create({
        type: 'BatchSourceError',
        message: `row ${rowNo} is not in the ledger`,
        nonRetryable: true,
      });
    if (row.status === 'pending' && row.cancelRequested) {
      // Never sent (a pending row has no create that may still appear): the cancel wins.
      await cancelUnsentRow(c, batchId, rowNo);
      return { kind: 'cancelled' };
    }
    if (row.status === 'pending' || row.status === 'in_flight')
      return toClaimed(row, await takeClaim(c, batchId, rowNo));
    return { kind: 'settled', row };
  });
}

/** A claimed row: a pending one is created; an in-flight one reconciles first if a create may have left. */
function toClaimed(row: LockedRow, claim: number): Claimed {
  if (row.status === 'pending') return { kind: 'create', row, claim };
  // A row claimed before claims existed (claim 0) may have sent a create at an unknown time.
  const maySent = row.createSentAgoMs !== null || row.claim === 0;
  return { kind: maySent ? 'reconcile' : 'create', row, claim };
}

/**
 * Look the row's reference up until it is found (→ the row's result) or until "not found" has held for
 * the grace period after the last create could have landed (→ undefined: create again).
 */
async function reconcile(
  deps: ShipRowDeps,
  k: Claim,
  row: LockedRow,
  shipper: string,
  format: 'GIF' | 'ZPL',
): Promise<ShipRowResult | undefined> {
  const ctx = Context.current();
  const started = Date.now();
  // The earliest moment an earlier create can no longer be answered, by this process's clock (the send
  // time comes from the database as an age, so clocks of different machines never meet). A row from
  // before send times were kept counts from now.
  const lastCallEnds = started - (row.createSentAgoMs ?? 0) + deps.callTimeoutMs;
  let firstNotFound: number | undefined;
  for (;;) {
    const found = await lookUp(deps, row.reference, shipper, format);
    if (found.kind === 'ups_down') {
      // Nobody can tell now; the row stays in flight and reconciles once UPS answers again.
      return { rowNo: k.rowNo, status: 'in_flight', costCents: 0, upsDown: found.outage };
    }
    if (found.kind === 'failed') {
      const why = `could not tell whether reference ${row.reference} shipped: ${found.message}`;
      return settled(
        deps,
        await settleClaim(deps.pool, k, 'needs_review', { message: why }),
        'needs_review',
        k,
      );
    }
    if (found.kind === 'found') {
      const quote = await estimateRowCost(deps.pool, deps.ups, k.batchId, k.rowNo, ctx.cancellationSignal);
      const stored = await storeShipment(deps, k, {
        shipmentId: found.labels.shipmentId,
        trackingNumbers: found.labels.labels.map((l) => l.trackingNumber).filter(Boolean),
        costCents: quote?.cents ?? null,
        currency: quote?.currency ?? null,
        costEstimated: quote !== undefined,
        labels: found.labels.labels,
      });
      if (stored !== 'stored' && stored !== 'same') return stored;
      return {
        rowNo: k.rowNo,
        status: 'shipped',
        costCents: quote?.cents ?? 0,
        ...(quote ? { currency: quote.currency } : {}),
      };
    }
    const now = Date.now();
    firstNotFound ??= now;
    const concludeAt = Math.max(lastCallEnds, firstNotFound) + deps.reconcileGraceMs;
    if (now >= concludeAt) return undefined;
    ctx.heartbeat({ reconciling: row.reference });
    await sleep(Math.min(RECONCILE_POLL_MS, concludeAt - now));
  }
}

type LookUp =
  | { kind: 'ups_down'; outage: UpsOutageSign }
  | { kind: 'found'; labels: RecoveredLabels }
  | { kind: 'not_found' }
  | { kind: 'failed'; message: string };

/** recover_label by reference, retried with backoff while it fails for a reason that may pass. */
async function lookUp(
  deps: ShipRowDeps,
  reference: string,
  shipper: string,
  format: 'GIF' | 'ZPL',
): Promise<LookUp> {
  const ctx = Context.current();
  const delays = deps.lookupRetryDelaysMs ?? LOOKUP_RETRY_DELAYS_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      const labels = await deps.ups.recoverByReference(reference, shipper, format, ctx.cancellationSignal);
      return labels ? { kind: 'found', labels } : { kind: 'not_found' };
    } catch (err) {
      const transient = err instanceof UpsError && err.errorClass !== 'definitive';
      const outage =
        err instanceof UpsError && !ctx.cancellationSignal.aborted ? upsOutageOf(err) : undefined;
      // UPS itself failing: the workflow's breaker decides (only a rate limit is waited out here, briefly).
      if (outage && (outage.kind !== 'rate_limited' || attempt >= delays.length)) {
        ctx.log.warn('UPS call failed', { error: err });
        return { kind: 'ups_down', outage };
      }
      if (!transient || attempt >= delays.length || ctx.cancellationSignal.aborted) {
        return { kind: 'failed', message: (err as Error).message };
      }
      const wait = Math.max(delays[attempt]!, err.retryAfterMs ?? 0);
      ctx.heartbeat({ lookupRetry: attempt + 1 });
      await sleep(wait);
    }
  }
}

/**
 * Store a shipment UPS made for the row. If the row already has another one (a superseded attempt's
 * shipment arriving late, or ours arriving after another attempt settled the row), this one is extra:
 * recorded, then voided at once (or listed when UPS refuses the void).
 */
async function storeShipment(
  deps: ShipRowDeps,
  k: Claim,
  s: ShippedRecord,
): Promise<'stored' | 'same' | ShipRowResult> {
  const outcome = await storeShipped(deps.pool, k.batchId, k.rowNo, s);
  if (outcome === 'stored') (deps.metrics ?? NO_METRICS).rowOutcome(k.batchId, 'shipped');
  if (outcome !== 'extra') return outcome;
  try {
    const res = await deps.ups.voidShipment(s.shipmentId!, undefined, Context.current().cancellationSignal);
    await settleExtraShipment(
      deps.pool,
      k.batchId,
      s.shipmentId!,
      res.voided ? { voided: true } : { voided: false, error: res.status || 'UPS did not confirm the void' },
    );
  } catch (err) {
    await settleExtraShipment(deps.pool, k.batchId, s.shipmentId!, {
      voided: false,
      error: (err as Error).message,
    });
  }
  return superseded(deps.pool, k);
}

/** The row as it stands, for an attempt whose write was superseded: whoever owns it now decides. */
async function superseded(pool: pg.Pool, k: Claim): Promise<ShipRowResult> {
  const row = (await inTransaction(pool, (c) => lockRow(c, k.batchId, k.rowNo)))!;
  return {
    rowNo: k.rowNo,
    status: row.status,
    costCents: row.costCents ?? 0,
    ...(row.currency ? { currency: row.currency } : {}),
  };
}

/**
 * The result of a settle: `status` when this attempt's write took (a row needing review is counted then),
 * else the row as another attempt left it.
 */
async function settled(
  deps: ShipRowDeps,
  took: boolean,
  status: RowStatus,
  k: Claim,
): Promise<ShipRowResult> {
  if (!took) return superseded(deps.pool, k);
  if (status === 'needs_review') (deps.metrics ?? NO_METRICS).rowOutcome(k.batchId, status);
  return { rowNo: k.rowNo, status, costCents: 0 };
}

/**
 * Cancel (signal, Update, or Temporal's own cancellation), in any open phase: written to the ledger at
 * once, rows in flight settle, the rest is cancelled, shipped rows voided on request (docs/design.md §3,
 * "Cancel"; docs/exactly-once.md).
 */
import { CancellationScope, condition, workflowInfo } from '@temporalio/workflow';
import type { BatchResult } from '../../domain/batch';
import { ledger, ups } from '../batch-activities';
import type { BatchRun } from '../batch-run';
import { cancelPickup, schedulePickup } from './pickup';
import { startTracking } from './tracking';
import { dispatch, PAGE } from './dispatch';

/** From the moment a cancel is accepted, no create may leave for a row of this batch. */
export function watchCancel(run: BatchRun): void {
  const { batchId, state } = run;
  void CancellationScope.nonCancellable(async () => {
    await condition(() => !!state.cancel);
    await ledger.requestCancel({ batchId });
  });
}

/** Close the batch as cancelled: every row settles first, then its counts and the phase. */
export async function cancelRest(run: BatchRun): Promise<BatchResult> {
  const { batchId, state: s } = run;
  s.modeLocked = true;
  if (!run.patches.cancelInLedger) {
    await condition(() => s.inFlightCount === 0);
    await ledger.markRows({ batchId, from: ['pending', 'failed'], to: 'cancelled' });
  } else {
    await ledger.requestCancel({ batchId });
    await condition(() => s.inFlightCount === 0);
    await ledger.markRows({ batchId, from: ['pending', 'failed'], to: 'cancelled' });
    // Rows that may exist at UPS settle before the batch closes: shipRow reconciles them and, the
    // cancel being in the ledger, never creates. With voidShipped, rows needing review too (a row
    // found shipped is then voided with the rest).
    if (s.cancel?.voidShipped) {
      await ledger.markRows({ batchId, from: ['needs_review'], to: 'in_flight' });
    }
    if ((await settleInFlight(run)) === 'continue') return run.handOver();
    if (s.leftInFlight > 0) {
      // UPS could not be asked whether they shipped: they may exist at UPS, so they need review.
      await ledger.markRows({
        batchId,
        from: ['in_flight'],
        to: 'needs_review',
        reason: 'the batch was cancelled while UPS did not answer: check at UPS whether it shipped',
      });
    }
  }
  if (s.cancel?.voidShipped) {
    const voided = await ups.voidShippedRows({ batchId });
    for (const problem of voided.problems) s.refuse('cancel', problem);
  }
  await run.refreshCounts();
  // All voided: the pickup has nothing left to take. Otherwise the shipped packages still need one.
  if (s.cancel?.voidShipped && s.counts.shipped === 0) await cancelPickup(run);
  else await schedulePickup(run);
  // Rows shipped before the cancel (not voided) are on their way: follow them like a finished batch's.
  await startTracking(run);
  s.endOutage(); // a closed batch waits for nothing
  s.error = `cancelled: ${s.cancel?.reason ?? ''}`.trim();
  run.enter('cancelled');
  return run.finish('cancelled');
}

/** After a cancel: dispatch every row the ledger still has in flight (each reconciles, none creates). */
async function settleInFlight(run: BatchRun): Promise<'done' | 'continue'> {
  const { batchId, opts, state: s } = run;
  let dispatched = 0;
  let after = 0;
  for (;;) {
    const page = await ledger.pendingRows({ batchId, afterRowNo: after, limit: PAGE });
    for (const rowNo of page) {
      await condition(() => s.inFlightCount < opts.concurrency);
      dispatch(run, rowNo);
      dispatched++;
    }
    await condition(() => s.inFlightCount === 0);
    if (page.length < PAGE) return 'done';
    after = page[page.length - 1]!;
    if (workflowInfo().continueAsNewSuggested || dispatched >= opts.rowsPerRun) return 'continue';
  }
}

/**
 * Temporal's own cancellation (Web UI "Cancel"): like `cancel` without voiding, in a scope that cannot be
 * cancelled; the caller then ends the workflow as cancelled in Temporal.
 */
export async function closeAfterTemporalCancel(run: BatchRun): Promise<void> {
  const s = run.state;
  s.cancel ??= { reason: 'cancelled through Temporal', voidShipped: false };
  await CancellationScope.nonCancellable(async () => {
    await condition(() => s.inFlightCount === 0);
    await cancelRest(run);
  });
}
